"""mt.utils.checkpoint against torch.utils.checkpoint: same values and gradients, the forward
recomputed in backward (with the same dropout mask), checkpoint_sequential, kwargs, non-tensor
outputs, torch's warnings and errors, and use inside mt.jit."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.utils.checkpoint import checkpoint, checkpoint_sequential

from .oracle import torch

TC = torch.utils.checkpoint


def _block(lib, p=0.0):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(p), nn.Linear(8, 4))


def _pair(p=0.0):
    t = _block(torch, p)
    m = _block(mt, p)
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return m, t


X = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)


@pytest.mark.parametrize("reentrant", [False, True])
def test_values_and_grads_match_torch(reentrant):
    m, t = _pair()
    xm = mt.tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    ym = checkpoint(m, xm, use_reentrant=reentrant)
    yt = TC.checkpoint(t, xt, use_reentrant=reentrant)
    assert type(ym.grad_fn).__name__ == "CheckpointFunctionBackward"
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    (ym ** 2).sum().backward()
    (yt ** 2).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    for p, q in zip(m.parameters(), t.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
    # autograd.grad w.r.t. the parameters works too (torch's reentrant variant refuses this)
    if not reentrant:
        gw, = mt.autograd.grad(checkpoint(m, xm, use_reentrant=False).sum(), [m[0].weight])
        gt, = torch.autograd.grad(TC.checkpoint(t, xt, use_reentrant=False).sum(), [t[0].weight])
        np.testing.assert_allclose(gw.numpy(), gt.numpy(), rtol=1e-5, atol=1e-6)


def test_forward_is_recomputed_in_backward():
    calls = []
    lin = mt.nn.Linear(4, 4)

    def fn(x):
        calls.append(1)
        return lin(x).relu()

    y = checkpoint(fn, mt.tensor(X, requires_grad=True), use_reentrant=False)
    assert len(calls) == 1
    y.sum().backward()
    assert len(calls) == 2  # run again by the backward
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_dropout_mask_is_the_same_in_the_recomputation():
    m, _ = _pair(p=0.5)
    x0 = mt.tensor(X, requires_grad=True)
    mt.manual_seed(3)
    y0 = m(x0)
    y0.sum().backward()
    ref = [p.grad.numpy().copy() for p in m.parameters()] + [x0.grad.numpy()]
    after_ref = mt.rand(2).numpy()
    m.zero_grad()
    x1 = mt.tensor(X, requires_grad=True)
    mt.manual_seed(3)
    y1 = checkpoint(m, x1, use_reentrant=False)
    after = mt.rand(2).numpy()  # the global generator moved on exactly as without checkpoint
    np.testing.assert_array_equal(after, after_ref)
    np.testing.assert_allclose(y1.detach().numpy(), y0.detach().numpy())
    mt.rand(5)  # drawing between forward and backward does not change the recomputed mask
    y1.sum().backward()
    got = [p.grad.numpy() for p in m.parameters()] + [x1.grad.numpy()]
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_checkpoint_sequential_matches_torch():
    t = torch.nn.Sequential(*[torch.nn.Linear(4, 4) for _ in range(4)])
    m = mt.nn.Sequential(*[mt.nn.Linear(4, 4) for _ in range(4)])
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    xm = mt.tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    ym = checkpoint_sequential(m, 2, xm, use_reentrant=False)
    yt = TC.checkpoint_sequential(t, 2, xt, use_reentrant=False)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    ym.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    for p, q in zip(m.parameters(), t.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential(m, 2, xm, use_reentrant=False, foo=1)


def test_kwargs_and_non_tensor_outputs():
    w = mt.tensor(np.ones((4, 2), np.float32), requires_grad=True)
    wt = torch.ones(4, 2, requires_grad=True)

    def f(x, scale=1.0, lib=mt):
        y = (x @ (w if lib is mt else wt)) * scale
        return {"y": y, "n": 7, "idx": y.argmax(-1)}

    om = checkpoint(f, mt.tensor(X), scale=3.0, use_reentrant=False)
    ot = TC.checkpoint(f, torch.tensor(X), scale=3.0, lib=torch, use_reentrant=False)
    assert om["n"] == 7 and not om["idx"].requires_grad and om["y"].requires_grad
    np.testing.assert_array_equal(om["idx"].numpy(), ot["idx"].numpy())
    om["y"].sum().backward()
    ot["y"].sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy())


def test_no_grad_inputs():
    m, t = _pair()
    # non-reentrant: the parameters make the output differentiable
    assert checkpoint(m, mt.tensor(X), use_reentrant=False).requires_grad
    assert TC.checkpoint(t, torch.tensor(X), use_reentrant=False).requires_grad
    # reentrant: only tensor arguments count (torch warns)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = checkpoint(m, mt.tensor(X), use_reentrant=True)
    assert not y.requires_grad
    with mt.no_grad():
        assert not checkpoint(m, mt.tensor(X, requires_grad=True), use_reentrant=False).requires_grad


def test_torch_warnings_and_errors():
    m, _ = _pair()
    x = mt.tensor(X, requires_grad=True)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        checkpoint(m, x)
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter"):
        checkpoint_sequential(m, 2, x)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: a,b"):
        checkpoint(m, x, use_reentrant=True, a=1, b=2)
    with pytest.raises(ValueError, match="Passing `context_fn` or `debug` is only supported when "
                                         "use_reentrant=False."):
        checkpoint(m, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', 'none'\], "
                                         "but got bad"):
        checkpoint(m, x, use_reentrant=False, determinism_check="bad")


def _make_step(m, opt):
    def step(x):
        opt.zero_grad()
        loss = checkpoint(m, x, use_reentrant=False).square().mean()
        loss.backward()
        opt.step()
        return loss
    return step


def test_checkpoint_inside_jit_matches_eager():
    results = []
    for compiled in (False, True):
        mt.manual_seed(0)
        m = _block(mt, p=0.25)
        opt = mt.optim.SGD(m.parameters(), lr=0.1)

        step = _make_step(m, opt)
        fn = mt.jit(step) if compiled else step
        x = mt.tensor(X)
        losses = [fn(x).item() for _ in range(2)]
        results.append((losses, [p.detach().numpy().copy() for p in m.parameters()]))
        if compiled:  # XLA is told to rematerialize: the recomputation sits behind a barrier
            assert "optimization_barrier" in fn.lower(x).as_text()
    (le, pe), (lj, pj) = results
    np.testing.assert_allclose(lj, le, rtol=1e-5)
    for a, b in zip(pj, pe):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_under_func_transform_is_jax_checkpoint():
    lin = mt.nn.Linear(4, 1)
    lt = torch.nn.Linear(4, 1)
    lin.load_state_dict({k: v.detach().numpy() for k, v in lt.state_dict().items()})
    g = mt.func.grad(lambda x: checkpoint(lin, x, use_reentrant=False).tanh().sum())(mt.tensor(X))
    xt = torch.tensor(X, requires_grad=True)
    lt(xt).tanh().sum().backward()
    np.testing.assert_allclose(g.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_jit_forward_differentiated_outside_and_buffers():
    m = mt.nn.Sequential(mt.nn.Linear(4, 4), mt.nn.BatchNorm1d(4), mt.nn.Tanh())
    t = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh())
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    f = mt.jit(lambda x: checkpoint(m, x, use_reentrant=False))
    xt = torch.tensor(X, requires_grad=True)
    for _ in range(2):  # the first call runs eagerly, the second compiled (jax.checkpoint inside)
        xm = mt.tensor(X, requires_grad=True)
        m.zero_grad()
        f(xm).sum().backward()
    for _ in range(2):
        t.zero_grad()
        xt.grad = None
        t(xt).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(m[0].weight.grad.numpy(), t[0].weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    # the running statistics are updated once per call (by the forward, not again by the recompute)
    np.testing.assert_allclose(m[1].running_mean.numpy(), t[1].running_mean.numpy(), rtol=1e-5, atol=1e-6)
    assert int(m[1].num_batches_tracked.item()) == 2
