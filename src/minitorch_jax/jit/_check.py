"""``mt.jit(fn, check=True)``: run every call both eagerly and compiled, from the same state, and
raise on the first output or state tensor that differs - naming it by its path."""

from __future__ import annotations

import numpy as np

from .. import _state_version
from .._tensor import Tensor
from . import _capture
from ._compiled import JitError

__all__ = ["JitCheckError", "run_checked"]

RTOL, ATOL = 1e-4, 1e-5


class JitCheckError(JitError):
    """The compiled and the eager run of a function disagree."""


def _snapshot(cap):
    tensors = [(t._data, t._grad, None if t._grad is None else t._grad._data,
                t._version) for t in cap.tensors]
    return tensors, [g._key for g in cap.generators], [(g, k, g[k]) for g, k, _ in cap.hp_slots]


def _restore(cap, snap):
    tensors, keys, hps = snap
    for t, (d, g, gd, v) in zip(cap.tensors, tensors):
        t._data, t._grad, t._version = d, g, v
        if g is not None:
            g._data = gd
    for gen, k in zip(cap.generators, keys):
        gen._key = k
    for group, key, v in hps:
        group[key] = v


def _state(cap):
    return [(np.asarray(t._data),
             None if t._grad is None else np.asarray(t._grad._data)) for t in cap.tensors]


def _outputs(obj, out, path="output"):
    if isinstance(obj, Tensor):
        out.append((path, np.asarray(obj.detach()._data)))
    elif isinstance(obj, (list, tuple)):
        for i, x in enumerate(obj):
            _outputs(x, out, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, x in obj.items():
            _outputs(x, out, f"{path}[{k!r}]")
    return out


def _compare(name, what, a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        raise JitCheckError(f"mt.jit({name}) check: {what} is {b.dtype}{list(b.shape)} compiled but "
                            f"{a.dtype}{list(a.shape)} eagerly")
    if a.dtype.kind in "fc":
        ok = np.allclose(a.astype(np.complex128 if a.dtype.kind == "c" else np.float64), b, rtol=RTOL,
                         atol=ATOL,
                         equal_nan=True)
    else:
        ok = np.array_equal(a, b)
    if not ok:
        diff = np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))) if a.dtype.kind in "fiub" else "?"
        raise JitCheckError(f"mt.jit({name}) check: {what} differs between the compiled and the eager run "
                            f"(max abs difference {diff}); run with mt.jit.disable() to debug the eager code")


def run_checked(cf, args, kwargs):
    """One call of ``cf`` in check mode (see the module docstring)."""
    with cf._lock:
        cap = cf._capture(args, kwargs)
        snap = _snapshot(cap)
        version = _state_version.VERSION[0]
        eager_out = cf.eager(*args, **kwargs)
        after = _capture.discover(_capture.roots_of(cf.eager, args, kwargs))
        if _state_version.VERSION[0] != version or len(after.tensors) != len(cap.tensors) or any(
                t._grad is None for t in after.tensors if t.requires_grad) != any(
                g is None for t, (_, g, _, _) in zip(cap.tensors, snap[0]) if t.requires_grad):
            # the eager run created state (gradients, optimizer moments): nothing to compare yet
            _state_version.bump()
            return eager_out
        eager_vals = _outputs(eager_out, [])
        eager_state = _state(cap)
        _restore(cap, snap)
        cf._warmed = True
        out = cf._call(args, kwargs)
        for (path, a), (_, b) in zip(eager_vals, _outputs(out, [])):
            _compare(cf.name, path, a, b)
        for path, (ea, eg), (ca, cg) in zip(cap.paths, eager_state, _state(cap)):
            _compare(cf.name, path, ea, ca)
            if (eg is None) != (cg is None):
                raise JitCheckError(f"mt.jit({cf.name}) check: {path}.grad is "
                                    f"{'None' if cg is None else 'set'} compiled but "
                                    f"{'None' if eg is None else 'set'} eagerly")
            if eg is not None:
                _compare(cf.name, path + ".grad", eg, cg)
        return out
