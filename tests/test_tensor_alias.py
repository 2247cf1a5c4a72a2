"""``.data`` and ``.detach()`` share their tensor's values, as in torch: in-place ops through either are
seen by the other (weight init through ``.data``, soft target updates, ``state_dict`` views), with
torch's version-counter rules; checked against torch where it has the same idiom."""

from __future__ import annotations

import copy
import gc
import pickle

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch

W = np.arange(6, dtype=np.float32).reshape(2, 3) / 10


def _both(fn):
    """Run ``fn(lib)`` with minitorch_jax and torch; return both results as numpy."""
    out = []
    for lib in (mt, torch):
        r = fn(lib)
        out.append([np.asarray(v.detach().numpy() if hasattr(v, "detach") else v) for v in r])
    return out


@pytest.mark.parametrize("idiom", ["data_copy", "data_mul", "detach_add", "detach_copy", "data_fill",
                                   "state_dict_copy", "chain"])
def test_in_place_through_alias_reaches_the_tensor(idiom):
    def run(lib):
        p = lib.nn.Parameter(lib.tensor(W.copy()))
        alias = {"data_copy": lambda: p.data.copy_(lib.ones(2, 3)),
                 "data_mul": lambda: p.data.mul_(3),
                 "detach_add": lambda: p.detach().add_(1),
                 "detach_copy": lambda: p.detach().copy_(lib.full((2, 3), 5.0)),
                 "data_fill": lambda: p.data.fill_(-2),
                 "state_dict_copy": None,
                 "chain": lambda: p.detach().data.detach().sub_(1)}[idiom]
        if alias is None:
            m = lib.nn.Linear(3, 2)
            with lib.no_grad():
                m.weight.copy_(lib.tensor(W))
            m.state_dict()["weight"].copy_(lib.zeros(2, 3))
            return [m.weight]
        alias()
        return [p]
    (a,), (b,) = _both(run)
    np.testing.assert_allclose(a, b)


def test_weight_init_through_data_as_in_dcgan():
    m = mt.nn.Conv2d(3, 4, 3)

    def weights_init(mod):
        if isinstance(mod, mt.nn.Conv2d):
            mod.weight.data.normal_(0.0, 0.02)
            mod.bias.data.fill_(0)

    m.apply(weights_init)
    assert float(m.weight.std()) < 0.05 and float(m.bias.abs().max()) == 0.0


def test_alias_sees_later_changes_of_its_tensor():
    def run(lib):
        p = lib.nn.Parameter(lib.tensor(W.copy()))
        d, v = p.detach(), p.data
        with lib.no_grad():
            p.mul_(2)
        return [d, v]
    (a1, a2), (b1, b2) = _both(run)
    np.testing.assert_allclose(a1, b1)
    np.testing.assert_allclose(a2, b2)


@pytest.mark.parametrize("how", ["detach", "data"])
def test_version_counter_rules_match_torch(how):
    def run(lib):
        a = lib.tensor(W.copy(), requires_grad=True)
        b = a * 1
        c = b.sin()
        (b.detach() if how == "detach" else b.data).add_(1)
        try:
            c.sum().backward()
            return "ok"
        except RuntimeError as e:
            return "modified by an inplace operation" in str(e)
    assert run(mt) == run(torch)
    a = mt.ones(3)
    d = a.detach()
    d.add_(1)
    assert a._version == d._version == 1  # detach shares the counter
    a.data.add_(1)
    assert a._version == 1  # .data has its own


def test_detached_loss_does_not_keep_the_graph_alive():
    import weakref
    x = mt.randn(3, requires_grad=True)
    y = x.exp()
    loss = y.sum()
    history = [loss.detach()]
    ref = weakref.ref(loss)
    expected = float(loss)
    del loss, y
    gc.collect()
    assert ref() is None
    assert float(history[0]) == pytest.approx(expected)


def test_alias_is_a_plain_tensor_to_the_user():
    p = mt.nn.Parameter(mt.tensor(W))
    d = p.detach()
    assert isinstance(d, mt.Tensor) and not isinstance(d, mt.nn.Parameter)
    assert repr(d) == repr(mt.tensor(W))
    assert not d.requires_grad and d.grad_fn is None
    c = copy.deepcopy(d)
    c.add_(1)
    np.testing.assert_allclose(p.detach().numpy(), W)  # a deep copy does not share
    r = pickle.loads(pickle.dumps(p.data))
    np.testing.assert_allclose(r.numpy(), W)
    leaf = p.detach().requires_grad_()  # the usual way to get an input-gradient leaf
    (leaf * 2).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), np.full((2, 3), 2.0))
    assert p.grad is None


def test_shape_changing_in_place_op_ends_the_sharing():
    t = mt.arange(6.0).reshape(2, 3)
    v = t.detach()
    v.t_()
    v.add_(1)
    assert v.shape == (3, 2)
    np.testing.assert_allclose(t.numpy(), np.arange(6.0).reshape(2, 3))


def test_alias_updates_inside_a_compiled_step_match_eager():
    def run(compiled):
        mt.manual_seed(0)
        net, target = mt.nn.Linear(3, 2), mt.nn.Linear(3, 2)
        opt = mt.optim.SGD(net.parameters(), lr=0.1)
        views = [p.detach() for p in net.parameters()]  # captured aliases: their base is the state
        x = mt.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))

        def step(x):
            opt.zero_grad()
            loss = net(x).pow(2).mean()
            loss.backward()
            opt.step()
            with mt.no_grad():
                for tp, p in zip(target.parameters(), net.parameters()):
                    tp.data.mul_(0.5).add_(p.data, alpha=0.5)
            return loss + 0 * views[0].sum()

        f = mt.jit(step) if compiled else step
        losses = [f(x).item() for _ in range(4)]
        if compiled:
            assert f.num_compiles == 1
        return losses, target.weight.detach().numpy(), views[0].numpy(), net.weight.detach().numpy()

    eager, jit = run(False), run(True)
    np.testing.assert_allclose(jit[0], eager[0], rtol=1e-6)
    np.testing.assert_allclose(jit[1], eager[1], rtol=1e-6)
    np.testing.assert_allclose(jit[2], jit[3])  # the captured view follows its parameter
