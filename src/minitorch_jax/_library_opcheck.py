"""``torch.library.opcheck`` for minitorch_jax's custom ops: consistency checks of one op on one input.

* ``test_schema``: the implementation writes only into arguments declared mutable (``mutates_args``);
* ``test_autograd_registration``: an op with kernels that need a formula has one when inputs require grad
  (ops from :func:`custom_op` always have an autograd kernel, which raises at backward if none was
  registered, so they pass, as in torch);
* ``test_faketensor``: the fake impl exists and gives the implementation's output shapes and dtypes;
* ``test_aot_dispatch_static`` / ``test_aot_dispatch_dynamic``: the op gives the same outputs under
  ``mt.jit`` as eagerly, and (inputs requiring grad) a backward runs.
"""

from __future__ import annotations

import numpy as np

from ._library_custom_op import lookup
from ._library_op import _collect, flatten_tensors
from ._tensor import Tensor, _wrap

__all__ = ["opcheck", "OpCheckError", "MetadataMismatchError", "DEFAULT_TEST_UTILS"]

DEFAULT_TEST_UTILS = ("test_schema", "test_autograd_registration", "test_faketensor",
                      "test_aot_dispatch_dynamic")
_ALL = ("test_schema", "test_autograd_registration", "test_faketensor", "test_aot_dispatch_static",
        "test_aot_dispatch_dynamic")


class OpCheckError(Exception):
    """Raised by :func:`opcheck` when a check fails (torch's ``OpCheckError``)."""


class MetadataMismatchError(RuntimeError):
    """The fake impl's outputs differ from the implementation's in shape or dtype."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _clone(v):
    """Deep copy of the tensors in an argument (requires_grad kept)."""
    if isinstance(v, Tensor):
        c = _wrap(v._data)
        c.requires_grad = v.requires_grad
        return c
    if isinstance(v, (list, tuple)):
        return type(v)(_clone(x) for x in v)
    if isinstance(v, dict):
        return {k: _clone(x) for k, x in v.items()}
    return v


def _tensor_outs(out) -> list:
    return [x for x in flatten_tensors(out)[0] if isinstance(x, Tensor)]


def _test_schema(entry, args, kwargs, **_):
    pos, kw = entry.schema.bind(_clone(args), _clone(kwargs), entry.qualname)
    names = [a.name for a in entry.schema.arguments if not a.kwarg_only]
    before = {n: [np.asarray(t._data) for t in _collect([v], {})] for n, v in zip(names, pos)}
    before.update({n: [np.asarray(t._data) for t in _collect([v], {})] for n, v in kw.items()})
    entry.forward(pos, kw)
    after = dict(zip(names, pos))
    after.update(kw)
    for n, vals in before.items():
        now = [np.asarray(t._data) for t in _collect([after[n]], {})]
        changed = any(a.shape != b.shape or not np.array_equal(a, b, equal_nan=True)
                      for a, b in zip(vals, now))
        if changed and n not in entry._mutable:
            raise RuntimeError(f"Argument {n} is not defined as mutable but was mutated")


def _test_autograd_registration(entry, args, kwargs, **_):
    pos, kw = entry.schema.bind(args, kwargs, entry.qualname)
    if not any(t.requires_grad for t in _collect(pos, kw)):
        return
    if entry.backward is None and entry.implicit_autograd is False and getattr(entry, "from_library", False):
        keys = [k or "CompositeExplicitAutograd" for k in entry.kernels]
        raise AssertionError(
            f"{entry.qualname}: at least one input requires grad, the operator has kernels for {keys} but no "
            "autograd formula. Please register one with torch.library.register_autograd (or implement the op "
            "as CompositeImplicitAutograd).")


def _test_faketensor(entry, args, kwargs, atol=None, rtol=None):
    pos, kw = entry.schema.bind(_clone(args), _clone(kwargs), entry.qualname)
    tensors = _collect(pos, kw)
    leaves, _ = entry.fake_outputs(pos, kw, tensors)
    fakes = [x for x in leaves if hasattr(x, "shape") and hasattr(x, "dtype")]
    real = _tensor_outs(entry.forward(pos, kw))
    if len(real) != len(fakes):
        raise MetadataMismatchError(
            f"When comparing the output of {entry.label} on FakeTensor and concrete Tensors, found "
            f"{len(real)} concrete outputs and {len(fakes)} fake outputs")
    from . import _dtype
    from ._tensor import Size
    for r, f in zip(real, fakes):
        if tuple(r.shape) != tuple(f.shape):
            raise MetadataMismatchError(
                f"When comparing the output of {entry.label} on FakeTensor and concrete Tensors, found "
                f"mismatched tensor metadata: Shapes {Size(r.shape)} and {Size(f.shape)} are not equal!")
        if r._data.dtype != f.dtype:
            raise MetadataMismatchError(
                f"When comparing the output of {entry.label} on FakeTensor and concrete Tensors, found "
                f"mismatched tensor metadata: Dtypes {r.dtype} and {_dtype.from_np(f.dtype)} are not equal!")


def _test_aot(entry, args, kwargs, atol=None, rtol=None):
    from . import jit
    if entry.fake is not None:  # a fake that disagrees with the implementation is test_faketensor's failure
        try:
            _test_faketensor(entry, args, kwargs)
        except MetadataMismatchError:
            return
    pos, kw = entry.schema.bind(_clone(args), _clone(kwargs), entry.qualname)
    tensors = _collect(pos, kw)
    if any(t.requires_grad for t in tensors):
        outs = [o for o in _tensor_outs(entry(*pos, **kw)) if o.requires_grad]
        if outs:
            total = sum(o.sum() for o in outs)
            total.backward()
    pos, kw = entry.schema.bind(_clone(args), _clone(kwargs), entry.qualname)
    eager = _tensor_outs(entry(*[_detach(v) for v in pos], **{k: _detach(v) for k, v in kw.items()}))
    pos, kw = entry.schema.bind(_clone(args), _clone(kwargs), entry.qualname)
    flat = _collect(pos, kw)

    def fn(*ts):
        from ._library_op import _replace
        p, k = _replace(pos, kw, ts)
        return tuple(_tensor_outs(entry(*p, **k)))

    compiled = _tensor_outs(jit(fn, donate=False)(*[t.detach() for t in flat]))
    for e, c in zip(eager, compiled):
        if not np.allclose(np.asarray(e._data), np.asarray(c._data), rtol=rtol or 1e-5, atol=atol or 1e-6,
                           equal_nan=True):
            raise AssertionError(f"{entry.label}: outputs under mt.jit differ from the eager outputs")


def _detach(v):
    if isinstance(v, Tensor):
        return v.detach()
    if isinstance(v, (list, tuple)):
        return type(v)(_detach(x) for x in v)
    return v


_TESTS = {"test_schema": _test_schema, "test_autograd_registration": _test_autograd_registration,
          "test_faketensor": _test_faketensor, "test_aot_dispatch_static": _test_aot,
          "test_aot_dispatch_dynamic": _test_aot}


def opcheck(op, args, kwargs=None, *, test_utils=DEFAULT_TEST_UTILS, raise_exception: bool = True,
            atol=None, rtol=None) -> dict:
    """Check that a custom op is registered consistently, on one set of inputs (``torch.library.opcheck``).

    Args:
        op: a :class:`CustomOpDef`, ``mt.ops.<ns>.<name>`` or its overload.
        args, kwargs: sample inputs (not modified: the checks run on copies).
        test_utils: which checks to run (a name or a sequence of ``test_schema``,
            ``test_autograd_registration``, ``test_faketensor``, ``test_aot_dispatch_static``,
            ``test_aot_dispatch_dynamic``).
        raise_exception: raise :class:`OpCheckError` on the first failure (else report it in the dict).
        atol, rtol: tolerances of the value comparisons.

    Returns:
        ``{check name: "SUCCESS" or the exception it raised}``.
    """
    kwargs = {} if kwargs is None else kwargs
    if isinstance(test_utils, str):
        test_utils = (test_utils,)
    if not set(test_utils) <= set(_ALL):
        raise ValueError(f"opcheck(op, ..., test_utils={tuple(test_utils)}), expected test_utils to be "
                         f"subset of {_ALL} but it was not")
    entry = lookup(op)
    results = {}
    for name in test_utils:
        try:
            _TESTS[name](entry, tuple(args), kwargs, atol=atol, rtol=rtol)
            results[name] = "SUCCESS"
        except Exception as e:
            if raise_exception:
                raise OpCheckError(
                    f"opcheck(op, ...): {name} failed with {e} (scroll up for stack trace)") from e
            results[name] = e
    return results
