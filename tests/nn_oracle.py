"""Layer parity helpers: build a torch layer and an mt layer, give the mt layer torch's weights,
and compare outputs, input gradients and parameter gradients."""

from __future__ import annotations

import numpy as np

import minitorch_jax as mt

from .oracle import assert_same, to_mt, to_torch, torch


def copy_state(mt_module, torch_module):
    """Load ``torch_module``'s state_dict (through numpy) into ``mt_module``, strictly."""
    sd = {k: mt.tensor(v.detach().cpu().numpy()) for k, v in torch_module.state_dict().items()}
    result = mt_module.load_state_dict(sd)
    assert not result.missing_keys and not result.unexpected_keys, result
    return mt_module


def _leaves(v, cls):
    if isinstance(v, cls):
        return [v]
    if isinstance(v, (list, tuple)):
        return [x for y in v for x in _leaves(y, cls)]
    return []


def compare_module(mt_module, torch_module, *inputs, train=True, rtol=None, atol=None, grad=True,
                   copy=True, kwargs=None, seed=0):
    """Run both modules on the same numpy ``inputs`` (float arrays get requires_grad) and compare
    outputs, input gradients and parameter gradients for a random cotangent.

    Returns ``(mt_out, torch_out)``.
    """
    if copy:
        copy_state(mt_module, torch_module)
    mt_module.train(train)
    torch_module.train(train)
    kwargs = kwargs or {}
    t_in = to_torch(list(inputs), grad)
    m_in = to_mt(list(inputs), grad)
    t_out = torch_module(*t_in, **to_torch(kwargs))
    m_out = mt_module(*m_in, **kwargs)
    assert_same(m_out, t_out, rtol, atol)
    if not grad:
        return m_out, t_out
    rng = np.random.default_rng(seed)
    t_loss, m_loss = 0, 0
    for to_, mo in zip(_leaves(t_out, torch.Tensor), _leaves(m_out, mt.Tensor)):
        if not to_.requires_grad:
            continue
        ct = rng.standard_normal(tuple(to_.shape)).astype(str(to_.dtype).split(".")[-1])
        t_loss = t_loss + (to_ * torch.from_numpy(ct)).sum()
        m_loss = m_loss + (mo * mt.tensor(ct)).sum()
    if isinstance(t_loss, int):
        return m_out, t_out
    t_loss.backward()
    m_loss.backward()
    for i, (ti, mi) in enumerate(zip(_leaves(t_in, torch.Tensor), _leaves(m_in, mt.Tensor))):
        if ti.grad is not None:
            assert mi.grad is not None, f"input {i}: mt produced no gradient"
            assert_same(mi.grad, ti.grad, rtol, atol, what=f"grad of input {i}")
    t_params = dict(torch_module.named_parameters())
    for name, p in mt_module.named_parameters():
        tp = t_params[name]
        if tp.grad is None:
            assert p.grad is None or not np.any(np.asarray(p.grad._data)), f"{name}: unexpected grad"
            continue
        assert p.grad is not None, f"parameter {name}: mt produced no gradient"
        assert_same(p.grad, tp.grad, rtol, atol, what=f"grad of parameter {name}")
    return m_out, t_out


def compare_buffers(mt_module, torch_module, rtol=None, atol=None):
    """Assert every buffer (running stats ...) of the two modules is equal."""
    t_bufs = dict(torch_module.named_buffers())
    for name, b in mt_module.named_buffers():
        assert_same(b, t_bufs[name], rtol, atol, what=f"buffer {name}")


def to_numpy(t):
    """A torch or minitorch_jax tensor's values as a numpy array (detached)."""
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach()._data)


def assert_params_same(m_model, t_model, rtol=1e-4, atol=1e-5):
    """Both models have the same parameter names, and equal values under ``rtol``/``atol``."""
    t_params = dict(t_model.named_parameters())
    m_params = dict(m_model.named_parameters())
    assert set(m_params) == set(t_params)
    for name, p in m_params.items():
        np.testing.assert_allclose(to_numpy(p), to_numpy(t_params[name]), rtol=rtol, atol=atol, err_msg=name)
