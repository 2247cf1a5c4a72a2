"""nn.utils fusion (BatchNorm folded into Linear / Conv), skip_init, weight memory-format conversion:
parity with torch."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch


def _copy(dst, src):
    """Load torch module ``src``'s state into mt module ``dst``."""
    dst.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in src.state_dict().items()})


def _randomize_bn(bn, rng):
    with torch.no_grad():
        n = bn.num_features
        bn.running_mean.copy_(torch.tensor(rng.standard_normal(n).astype("float32")))
        bn.running_var.copy_(torch.tensor(rng.uniform(0.5, 2.0, n).astype("float32")))
        if bn.weight is not None:
            bn.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, n).astype("float32")))
            bn.bias.copy_(torch.tensor(rng.standard_normal(n).astype("float32")))


@pytest.mark.parametrize("kind,kw", [("Conv2d", {}), ("Conv2d", {"bias": False}),
                                     ("ConvTranspose2d", {}), ("Conv1d", {"affine": False})])
def test_fuse_conv_bn_eval_matches_torch_and_the_unfused_pair(kind, kw):
    rng = np.random.default_rng(0)
    affine = kw.pop("affine", True)
    nd = int(kind[-2])
    tc = getattr(torch.nn, kind)(3, 4, 3, **kw).eval()
    tb = getattr(torch.nn, f"BatchNorm{nd}d")(4, affine=affine).eval()
    _randomize_bn(tb, rng)
    mc = getattr(mt.nn, kind)(3, 4, 3, **kw).eval()
    mb = getattr(mt.nn, f"BatchNorm{nd}d")(4, affine=affine).eval()
    _copy(mc, tc)
    _copy(mb, tb)
    transpose = kind.startswith("ConvTranspose")
    tf = torch.nn.utils.fuse_conv_bn_eval(tc, tb, transpose=transpose)
    mf = mt.nn.utils.fuse_conv_bn_eval(mc, mb, transpose=transpose)
    assert type(mf) is type(mc) and mf is not mc and mf.weight.requires_grad
    np.testing.assert_allclose(mf.weight.detach().numpy(), tf.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mf.bias.detach().numpy(), tf.bias.detach().numpy(), rtol=1e-5, atol=1e-6)
    x = rng.standard_normal((2, 3) + (6,) * nd).astype("float32")
    np.testing.assert_allclose(mf(mt.tensor(x)).detach().numpy(), mb(mc(mt.tensor(x))).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("n_bn", [4, 1])
def test_fuse_linear_bn_eval_matches_torch(n_bn):
    rng = np.random.default_rng(1)
    tl, tb = torch.nn.Linear(3, 4).eval(), torch.nn.BatchNorm1d(n_bn).eval()
    _randomize_bn(tb, rng)
    ml, mb = mt.nn.Linear(3, 4).eval(), mt.nn.BatchNorm1d(n_bn).eval()
    _copy(ml, tl)
    _copy(mb, tb)
    tf, mf = torch.nn.utils.fuse_linear_bn_eval(tl, tb), mt.nn.utils.fuse_linear_bn_eval(ml, mb)
    for a, b in ((mf.weight, tf.weight), (mf.bias, tf.bias)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_fuse_weights_functions_and_errors():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 3, 3, 3)).astype("float32")
    rm, rv = rng.standard_normal(4).astype("float32"), rng.uniform(0.5, 2, 4).astype("float32")
    tw, tb = torch.nn.utils.fuse_conv_bn_weights(torch.tensor(w), None, torch.tensor(rm), torch.tensor(rv),
                                                 1e-5, None, None)
    mw, mb = mt.nn.utils.fuse_conv_bn_weights(mt.tensor(w), None, mt.tensor(rm), mt.tensor(rv), 1e-5, None,
                                              None)
    assert isinstance(mw, mt.nn.Parameter) and not mw.requires_grad and mw.requires_grad == tw.requires_grad
    np.testing.assert_allclose(mw.detach().numpy(), tw.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(mb.detach().numpy(), tb.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        mt.nn.utils.fuse_conv_bn_eval(mt.nn.Conv2d(3, 4, 3), mt.nn.BatchNorm2d(4).eval())
    with pytest.raises(AssertionError, match=r"linear.out_features=4 and bn.num_features=5"):
        mt.nn.utils.fuse_linear_bn_eval(mt.nn.Linear(3, 4).eval(), mt.nn.BatchNorm1d(5).eval())


def test_skip_init_and_memory_format_conversion():
    mt.manual_seed(0)
    expect = mt.rand(2)
    mt.manual_seed(0)
    m = mt.nn.utils.skip_init(mt.nn.Linear, 3, 4, bias=False)
    assert isinstance(m, mt.nn.Linear) and tuple(m.weight.shape) == (4, 3) and m.bias is None
    assert not m.weight.is_meta and isinstance(m.weight, mt.nn.Parameter) and m.weight.requires_grad
    np.testing.assert_array_equal(mt.rand(2).numpy(), expect.numpy())  # no initialisation drew numbers
    t = torch.nn.utils.skip_init(torch.nn.Linear, 3, 4, bias=False, device="cpu")
    assert tuple(t.weight.shape) == (4, 3)
    assert mt.nn.utils.skip_init(mt.nn.Linear, 3, 4, device="cpu").weight.device == mt.device("cpu")

    class NoDevice(mt.nn.Module):
        def __init__(self):
            super().__init__()

    with pytest.raises(RuntimeError, match="Expected a Module"):
        mt.nn.utils.skip_init(int)
    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        mt.nn.utils.skip_init(NoDevice)
    conv = mt.nn.Conv2d(3, 4, 3)
    assert mt.nn.utils.convert_conv2d_weight_memory_format(conv, mt.channels_last) is conv
    assert mt.nn.utils.convert_conv3d_weight_memory_format(conv, mt.channels_last_3d) is conv
    with pytest.raises(TypeError, match="memory_format"):
        mt.nn.utils.convert_conv2d_weight_memory_format(conv, "channels_last")
