"""Run with XLA_FLAGS=--xla_force_host_platform_device_count=4: device names, placement, mismatch errors."""
import jax
import numpy as np

import minitorch_jax as mt
from minitorch_jax import _device

assert len(jax.devices()) == 4
a = mt.ones(3)
assert a.device == mt.device("cpu")
b = a.to("cpu:1")
assert b.device == mt.device("cpu", 1) and str(b.device) == "cpu:1"
assert b.to("cpu:1") is b
assert b.tolist() == [1.0, 1.0, 1.0]
c = mt.zeros(3, device="cpu:2")
assert str(c.device) == "cpu:2"
try:
    b + c
except RuntimeError as e:
    msg = str(e)
    assert "Expected all tensors to be on the same device, but found at least two devices, cpu:1 and cpu:2!" \
        in msg, msg
else:
    raise AssertionError("no error for tensors on two devices")
try:
    mt.matmul(b.reshape(1, 3), c.reshape(3, 1))
except RuntimeError as e:
    assert "same device" in str(e), str(e)
else:
    raise AssertionError("no error for matmul on two devices")
# an uncommitted tensor (created on the default device) mixes with any device, as JAX allows
assert (a + b).tolist() == [2.0, 2.0, 2.0]
# the default device
_device.set_default_device("cpu:3")
assert _device.get_default_device() == mt.device("cpu", 3)
d = mt.arange(4)
assert str(d.device) == "cpu:3", d.device
_device.set_default_device(None)
with mt.device("cpu:2"):
    assert str(mt.randn(2).device) == "cpu:2"
assert mt.ones(1).device == mt.device("cpu")
# new_* follow the tensor's device (not the default one), as torch
e = mt.ones(2, device="cpu:2")
for made in (e.new_zeros(3), e.new_ones(1), e.new_full((2,), 1.0), e.new_empty(2), e.new_tensor([1.0])):
    assert str(made.device) == "cpu:2", made.device
assert str(e.new_zeros(1, device="cpu:1").device) == "cpu:1"
# gradients flow across a device move
x = mt.ones(3, requires_grad=True)
(x.to("cpu:1") * 2).sum().backward()
np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
print("OK")
