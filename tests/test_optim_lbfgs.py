"""mt.optim.LBFGS and mt.optim.SparseAdam against torch.optim: parity over several steps (float32 and
float64, with and without the strong-Wolfe line search, a history shorter than the iterations),
state dicts that load into torch and back, errors, and behaviour under mt.jit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch

LBFGS_KEYS = {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
              "prev_loss", "al"}


def _np(t):
    return np.asarray(t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().numpy())


def _to_torch(v):
    """A state value of mt's state dict as torch's (Tensors converted, containers rebuilt)."""
    if isinstance(v, mt.Tensor):
        return torch.tensor(np.array(v.detach().numpy()))
    if isinstance(v, dict):
        return {k: _to_torch(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_to_torch(x) for x in v)
    return v


# ----- LBFGS ------------------------------------------------------------------------------------
def _rosenbrock(lib, dtype):
    """Rosenbrock's function of two scalar parameters (so the flat vector spans two tensors)."""
    a = lib.nn.Parameter(lib.tensor(np.array(-1.2, dtype)))
    b = lib.nn.Parameter(lib.tensor(np.array(1.0, dtype)))

    def loss():
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2
    return [a, b], loss


def _least_squares(lib, dtype):
    """A small least-squares problem in a (3, 4) weight and a (3,) bias."""
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((8, 4)).astype(dtype))
    y = lib.tensor(rng.standard_normal((8, 3)).astype(dtype))
    w = lib.nn.Parameter(lib.tensor(rng.standard_normal((3, 4)).astype(dtype)))
    bias = lib.nn.Parameter(lib.tensor(np.zeros(3, dtype)))

    def loss():
        return ((x @ w.t() + bias - y) ** 2).sum()
    return [w, bias], loss


def _lbfgs_run(lib, problem, dtype, steps, **kw):
    params, loss_fn = problem(lib, dtype)
    opt = lib.optim.LBFGS(params, **kw)

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    out = []
    for _ in range(steps):
        loss = opt.step(closure)
        out.append((float(loss.detach()), [_np(p).copy() for p in params]))
    return out, opt


LBFGS_CASES = [
    (_rosenbrock, np.float32, dict(lr=0.1, max_iter=6)),
    (_rosenbrock, np.float32, dict(line_search_fn="strong_wolfe", max_iter=4, history_size=2)),
    (_rosenbrock, np.float64, dict(lr=0.1, max_iter=6, history_size=2)),
    (_rosenbrock, np.float64, dict(line_search_fn="strong_wolfe", max_iter=6)),
    (_least_squares, np.float32, dict(max_iter=4, history_size=2, line_search_fn="strong_wolfe")),
    (_least_squares, np.float64, dict(line_search_fn="strong_wolfe", max_iter=5, history_size=3)),
]


@pytest.mark.parametrize("problem,dtype,kw", LBFGS_CASES,
                         ids=[f"{p.__name__[1:]}-{d.__name__}-{'-'.join(map(str, k.values()))}"
                              for p, d, k in LBFGS_CASES])
def test_lbfgs_parity(problem, dtype, kw):
    # float32 rounding differs from torch's in the last bit (torch's CPU kernels fuse multiply-adds);
    # Rosenbrock's valley amplifies it, so the float32 runs are kept short
    got, opt = _lbfgs_run(mt, problem, dtype, 3, **kw)
    want, topt = _lbfgs_run(torch, problem, dtype, 3, **kw)
    rtol, atol = (1e-4, 1e-5) if dtype == np.float32 else (1e-10, 1e-10)
    for (lg, pg), (lw, pw) in zip(got, want):
        np.testing.assert_allclose(lg, lw, rtol=rtol, atol=atol)
        for a, b in zip(pg, pw):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    st, tst = opt.state_dict()["state"][0], topt.state_dict()["state"][0]
    assert set(st) == set(tst) == LBFGS_KEYS
    assert (st["func_evals"], st["n_iter"]) == (tst["func_evals"], tst["n_iter"])
    assert len(st["old_dirs"]) == len(tst["old_dirs"]) <= opt.param_groups[0]["history_size"]
    np.testing.assert_allclose(_np(st["d"]), _np(tst["d"]), rtol=rtol * 10, atol=atol * 10)


def test_lbfgs_history_shorter_than_iterations():
    _, opt = _lbfgs_run(mt, _least_squares, np.float64, 3, max_iter=6, history_size=2)
    st = opt.state_dict()["state"][0]
    assert st["n_iter"] == 18 and len(st["old_dirs"]) == len(st["old_stps"]) == len(st["ro"]) == 2
    assert len(st["al"]) == 2


def test_lbfgs_closure_result_and_defaults():
    params, loss_fn = _least_squares(mt, np.float64)
    opt = mt.optim.LBFGS(params)
    results = []

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        results.append(loss)
        return loss

    out = opt.step(closure)
    assert out is results[0] and out.requires_grad  # the first evaluation, untouched
    assert opt.param_groups[0]["max_eval"] == 25 and opt.param_groups[0]["line_search_fn"] is None
    assert len(results) == opt.state[params[0]]["func_evals"] <= 25
    opt.step(closure)
    # converged (a quadratic in 15 unknowns): one more step evaluates once and stops on tolerance_grad
    evals = opt.state[params[0]]["func_evals"]
    opt.step(closure)
    assert opt.state[params[0]]["func_evals"] == evals + 1 == len(results)


def test_lbfgs_state_dict_interchanges_with_torch():
    got, opt = _lbfgs_run(mt, _rosenbrock, np.float64, 2, line_search_fn="strong_wolfe", max_iter=4)
    _, topt = _lbfgs_run(torch, _rosenbrock, np.float64, 2, line_search_fn="strong_wolfe", max_iter=4)
    # mt -> torch: a fresh torch optimizer at mt's point, loaded with mt's state, continues as mt does
    params, loss_fn = _rosenbrock(torch, np.float64)
    with torch.no_grad():
        for p, q in zip(params, got[-1][1]):
            p.copy_(torch.tensor(q))
    t2 = torch.optim.LBFGS(params, line_search_fn="strong_wolfe", max_iter=4)
    t2.load_state_dict(_to_torch(opt.state_dict()))

    def tclosure():
        t2.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    mparams = opt.param_groups[0]["params"]

    def mclosure():
        opt.zero_grad()
        loss = (1 - mparams[0]) ** 2 + 100 * (mparams[1] - mparams[0] * mparams[0]) ** 2
        loss.backward()
        return loss

    t2.step(tclosure)
    opt.step(mclosure)
    for p, q in zip(mparams, params):
        np.testing.assert_allclose(_np(p), _np(q), rtol=1e-10)
    # torch -> mt: torch's state dict (tensors, floats, ints, None entries in 'al') loads
    m2 = mt.optim.LBFGS([mt.nn.Parameter(mt.tensor(0.0)), mt.nn.Parameter(mt.tensor(0.0))])
    m2.load_state_dict(topt.state_dict())
    st = m2.state_dict()["state"][0]
    assert set(st) == LBFGS_KEYS and isinstance(st["d"], mt.Tensor)
    assert len(st["old_dirs"]) == len(topt.state_dict()["state"][0]["old_dirs"])


def test_lbfgs_errors():
    p = mt.nn.Parameter(mt.tensor([1.0]))
    opt = mt.optim.LBFGS([p])
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'closure'"):
        opt.step()
    with pytest.raises(ValueError, match=r"LBFGS doesn't support per-parameter options \(parameter groups\)"):
        mt.optim.LBFGS([{"params": [p]}, {"params": [mt.nn.Parameter(mt.tensor([2.0]))]}])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        mt.optim.LBFGS([p], lr=-1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    opt = mt.optim.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_lbfgs_under_jit():
    def make():
        params, loss_fn = _rosenbrock(mt, np.float32)
        opt = mt.optim.LBFGS(params, max_iter=3, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        return params, opt, closure

    params, opt, closure = make()
    want = [float(opt.step(closure).detach()) for _ in range(3)]

    params, opt, closure = make()
    step = mt.jit(lambda: opt.step(closure))
    step()  # the first call runs eagerly (it creates the gradients); the second is traced
    with pytest.raises(mt.jit.JitError, match="LBFGS.step is an eager optimizer"):
        step()

    params, opt, closure = make()
    step = mt.jit(lambda: opt.step(closure), fallback="eager")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [float(step().detach()) for _ in range(3)]
    assert any("LBFGS.step is an eager optimizer" in str(w.message) for w in caught)
    assert step.num_compiles == 0
    np.testing.assert_allclose(got, want, rtol=1e-6)


# ----- SparseAdam -------------------------------------------------------------------------------
BATCHES = [[1, 2, 2], [4, 1], [0, 7], [2, 3, 3, 1], [5]]


def _embedding_run(lib, dtype, **kw):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((8, 3)).astype(dtype)
    target = lib.tensor(rng.standard_normal(3).astype(dtype))
    emb = lib.nn.Embedding(8, 3, sparse=True, _weight=lib.tensor(w0))
    opt = lib.optim.SparseAdam(emb.parameters(), **kw)
    out = []
    for idx in BATCHES:
        opt.zero_grad()
        e = emb(lib.tensor(idx))
        ((e - target) ** 2).sum().backward()
        opt.step()
        st = opt.state[emb.weight]
        out.append([_np(emb.weight).copy(), _np(st["exp_avg"]).copy(), _np(st["exp_avg_sq"]).copy()])
    return out, opt


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, maximize=True)])
def test_sparse_adam_parity_with_sparse_embedding(kw):
    dtype = np.float32
    got, opt = _embedding_run(mt, dtype, **kw)
    want, topt = _embedding_run(torch, dtype, **kw)
    rtol = 1e-5
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    # row 6 was never looked up: parameter and moments untouched
    assert np.all(got[-1][1][6] == 0) and np.array_equal(got[-1][0][6], want[0][0][6])
    assert float(opt.state_dict()["state"][0]["step"]) == topt.state_dict()["state"][0]["step"] == 5


def test_sparse_adam_untouched_rows_and_torch_state_dict():
    w = mt.nn.Parameter(mt.zeros(3, 2))
    opt = mt.optim.SparseAdam([w], lr=0.1)
    w.grad = mt.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, -2.0]])
    opt.step()
    # rows 0 and 2 move (entire rows, zero entries included: their moments are updated), row 1 not
    np.testing.assert_allclose(_np(w), [[-0.1, 0.0], [0.0, 0.0], [0.0, 0.1]], atol=1e-6)
    # a torch state dict (Python int step) loads and steps
    tw = torch.nn.Parameter(torch.zeros(3, 2))
    topt = torch.optim.SparseAdam([tw], lr=0.1)
    tw.grad = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, -2.0]]).to_sparse(1)
    topt.step()
    w2 = mt.nn.Parameter(mt.tensor(_np(tw)))
    opt2 = mt.optim.SparseAdam([w2], lr=0.1)
    opt2.load_state_dict(topt.state_dict())
    w.grad = w2.grad = mt.tensor([[0.5, 0.5], [0.0, 0.0], [1.0, 1.0]])
    opt.step()
    opt2.step()
    np.testing.assert_allclose(_np(w2), _np(w), atol=1e-7)
    assert float(opt2.state[w2]["step"]) == 2


def test_sparse_adam_errors_and_jit():
    p = mt.nn.Parameter(mt.zeros(2, 2))
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        mt.optim.SparseAdam([p], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid epsilon value: -1"):
        mt.optim.SparseAdam([p], eps=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        mt.optim.SparseAdam([p], betas=(0.9, 1.0))

    W0 = np.arange(10.0, dtype=np.float32).reshape(5, 2)

    def make():
        emb = mt.nn.Embedding(5, 2, sparse=True, _weight=mt.tensor(W0))
        return emb, mt.optim.SparseAdam(emb.parameters(), lr=0.1)

    def train(emb, opt, idx):
        opt.zero_grad()
        emb(idx).sum().backward()
        opt.step()

    idx = mt.tensor([0, 3])
    emb, opt = make()
    for _ in range(3):
        train(emb, opt, idx)
    jemb, jopt = make()
    step = mt.jit(train)
    for _ in range(3):
        step(jemb, jopt, idx)
    # (compiled and eager Adam-family steps differ by a few float32 ulps; Adam's do too)
    np.testing.assert_allclose(_np(jemb.weight), _np(emb.weight), rtol=1e-5)
    assert step.num_compiles == 1
    np.testing.assert_array_equal(_np(jemb.weight)[[1, 2, 4]], W0[[1, 2, 4]])
