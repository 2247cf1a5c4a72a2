"""``mt.utils.flop_counter``: torch's ``FlopCounterMode``, counting the FLOPs of matrix products and
convolutions run inside it, per module, with torch's formulas and op names (``'aten.mm'``,
``'aten.addmm'``, ``'aten.bmm'``, ``'aten.baddbmm'``, ``'aten.convolution'``,
``'aten.convolution_backward'``):

* a product ``(M, K) @ (K, N)`` costs ``2*M*K*N`` (batched: times the batch); in backward each input
  that requires grad costs one more such product (``'aten.mm'``/``'aten.bmm'``);
* a convolution costs ``2 * batch * weight.numel() * prod(spatial)`` (output spatial size, input's for a
  transposed convolution); its backward counts the input gradient (same cost) and the weight gradient
  when they are needed, as torch does;
* ``scaled_dot_product_attention`` counts its two batched products (``'aten.bmm'``, torch's math path;
  torch's CPU build reports 0 when it takes its fused flash path).

Keys of :meth:`FlopCounterMode.get_flop_counts` are op-name strings (``'aten.mm'``), where torch uses
``torch.ops.aten`` packets that print the same. How ops are seen: every op call reaches
:func:`_observe` through the op table's observers (``mt._ops._registry.DISPATCH_OBSERVERS``).
Backward FLOPs are counted by gradient hooks on the op outputs, when a backward pass runs inside the mode.
"""

from __future__ import annotations

import math
from collections import defaultdict

from .module_tracker import ModuleTracker

__all__ = ["FlopCounterMode", "register_flop_formula"]

_FORMULAS: dict = {}


def register_flop_formula(targets, get_raw: bool = False):
    """Decorator registering ``formula(*shapes, out_shape=...) -> int`` for op name(s) ``targets``
    (e.g. ``'aten.mm'``); it replaces the built-in formula for those names."""
    names = targets if isinstance(targets, list | tuple) else [targets]

    def deco(fn):
        for n in names:
            _FORMULAS[str(n)] = fn
        return fn
    return deco


def _prod(xs) -> int:
    return math.prod(int(x) for x in xs)


def mm_flop(a_shape, b_shape, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of ``(M, K) @ (K, N)``: ``2*M*K*N``."""
    m, k = a_shape
    return 2 * m * k * b_shape[-1]


def addmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """FLOPs of ``bias + a @ b`` (the addition is not counted)."""
    return mm_flop(a_shape, b_shape)


def bmm_flop(a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """FLOPs of ``(B, M, K) @ (B, K, N)``: ``2*B*M*K*N``."""
    b, m, k = a_shape
    return 2 * b * m * k * b_shape[-1]


def baddbmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """FLOPs of ``input + a @ b`` batched (the addition is not counted)."""
    return bmm_flop(a_shape, b_shape)


def conv_flop_count(x_shape, w_shape, out_shape, transposed: bool = False) -> int:
    """FLOPs of a convolution: ``2 * batch * prod(w_shape) * prod(spatial)``, spatial being the output's
    (the input's for a transposed convolution)."""
    spatial = (x_shape if transposed else out_shape)[2:]
    return 2 * int(x_shape[0]) * _prod(w_shape) * _prod(spatial)


def _t(shape):
    return (shape[1], shape[0], *shape[2:])


def conv_backward_flop(x_shape, w_shape, out_shape, transposed: bool, input_grad: bool,
                       weight_grad: bool) -> int:
    """FLOPs of a convolution's backward: the input gradient and/or the weight gradient."""
    flops = 0
    if input_grad:
        flops += conv_flop_count(out_shape, w_shape, x_shape, not transposed)
    if weight_grad:
        if transposed:
            flops += conv_flop_count(_t(out_shape), _t(x_shape), _t(w_shape), False)
        else:
            flops += conv_flop_count(_t(x_shape), _t(out_shape), _t(w_shape), False)
    return flops


def _formula(key: str, default):
    """The formula for op ``key``: the active mode's ``custom_mapping``, a registered one or ``default``."""
    if _ACTIVE and key in _ACTIVE[-1].custom_mapping:
        return _ACTIVE[-1].custom_mapping[key]
    return _FORMULAS.get(key, default)


def _shape(t):
    return tuple(t.shape)


def _needs(t) -> bool:
    return t is not None and getattr(t, "requires_grad", False)


def _product_plan(name, targs, out):
    """``[(fwd_name, fwd_flops, bwd_name, bwd_flops), ...]`` for the product-like op ``name``."""
    if name in ("mm", "addmm", "linear", "matmul"):
        if name == "linear":
            x, w, b = (list(targs) + [None])[:3]
            a_shape = (_prod(_shape(x)[:-1]), _shape(x)[-1])
            b_shape = tuple(reversed(_shape(w)))
            key = "aten.addmm" if b is not None else "aten.mm"
            a, bb = x, w
        else:
            a, bb = (targs[1], targs[2]) if name == "addmm" else (targs[0], targs[1])
            sa, sb = _shape(a), _shape(bb)
            if name == "matmul" and (len(sb) == 1 or (len(sa) > 2 and len(sb) > 2) or len(sb) > 2):
                if len(sa) < 2 or len(sb) < 2:
                    return []
                batch = _prod(_shape(out)[:-2])
                fl = 2 * batch * sa[-2] * sa[-1] * sb[-1]
                return [("aten.bmm", fl, "aten.bmm", fl * (_needs(a) + _needs(bb)))]
            a_shape = (_prod(sa[:-1]), sa[-1])
            b_shape = sb
            key = "aten.addmm" if name == "addmm" else "aten.mm"
        fl = _formula(key, mm_flop)(a_shape, b_shape) if key == "aten.mm" else \
            _formula(key, addmm_flop)(None, a_shape, b_shape)
        return [(key, fl, "aten.mm", mm_flop(a_shape, b_shape) * (_needs(a) + _needs(bb)))]
    if name in ("bmm", "baddbmm"):
        a, bb = (targs[1], targs[2]) if name == "baddbmm" else (targs[0], targs[1])
        key = "aten." + name
        fl = _formula(key, bmm_flop)(_shape(a), _shape(bb)) if name == "bmm" else \
            _formula(key, baddbmm_flop)(None, _shape(a), _shape(bb))
        return [(key, fl, "aten.bmm", bmm_flop(_shape(a), _shape(bb)) * (_needs(a) + _needs(bb)))]
    if name == "scaled_dot_product_attention":
        q, k, v = targs[:3]
        sq, sk, sv = _shape(q), _shape(k), _shape(v)
        batch = _prod(sq[:-2])
        scores = 2 * batch * sq[-2] * sq[-1] * sk[-2]
        mix = 2 * batch * sq[-2] * sk[-2] * sv[-1]
        qk = _needs(q) or _needs(k)
        bwd = scores * (_needs(q) + _needs(k)) + mix * (qk + _needs(v))
        return [("aten.bmm", scores + mix, "aten.bmm", bwd)]
    return []


def _conv_plan(x, w, out, transposed):
    xs, ws, os_ = _shape(x), _shape(w), _shape(out)
    fl = _formula("aten.convolution", conv_flop_count)(xs, ws, os_, transposed)
    bwd = conv_backward_flop(xs, ws, os_, transposed, _needs(x), _needs(w))
    return [("aten.convolution", fl, "aten.convolution_backward", bwd)]


_CONV_OPS = {"conv1d": False, "conv2d": False, "conv3d": False, "conv_transpose1d": True,
             "conv_transpose2d": True, "conv_transpose3d": True}
_ACTIVE: list = []  # the FlopCounterModes entered, innermost last


def _plan(name, targs, rest, out):
    if name in _CONV_OPS:
        return _conv_plan(targs[0], targs[1], out, _CONV_OPS[name])
    if name == "convolution":
        transposed = bool(rest[3]) if len(rest) > 3 else False
        return _conv_plan(targs[0], targs[1], out, transposed)
    return _product_plan(name, targs, out)


def _observe(op, targs, rest, kwargs, out) -> None:
    """Count one op call (``op`` an ``OpDef`` or an op name) for the innermost active FlopCounterMode."""
    if not _ACTIVE:
        return
    name = op if isinstance(op, str) else op.name
    _ACTIVE[-1]._count(_plan(name, targs, rest, out), out)


class FlopCounterMode:
    """Counts FLOPs of the ops run inside ``with FlopCounterMode(...) as counter:``.

    Args:
        mods: ignored (torch deprecated it: every module is tracked).
        depth: how deep the module hierarchy goes in :meth:`get_table` and the printed summary.
        display: print the table on exit.
        custom_mapping: ``{op_name: formula}`` overriding formulas (see :func:`register_flop_formula`).

    Example::

        >>> with FlopCounterMode(display=False) as fc:
        ...     model(x).sum().backward()
        >>> fc.get_total_flops(), fc.get_flop_counts()["Global"]
    """

    def __init__(self, mods=None, depth: int = 2, display: bool = True, custom_mapping: dict | None = None):
        self.depth = depth
        self.display = display
        self.custom_mapping = {str(k): v for k, v in (custom_mapping or {}).items()}
        self.flop_counts: dict = defaultdict(lambda: defaultdict(int))
        self.mod_tracker = ModuleTracker()

    def get_total_flops(self) -> int:
        """All FLOPs counted."""
        return sum(self.flop_counts["Global"].values())

    def get_flop_counts(self) -> dict:
        """``{module_name: {op_name: flops}}``, with ``'Global'`` for everything."""
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def _add(self, parents, key: str, flops: int) -> None:
        if flops:
            for p in parents:
                self.flop_counts[p][key] += flops

    def _count(self, plan, out) -> None:
        if not plan:
            return
        parents = frozenset(self.mod_tracker.parents)
        bwd = []
        for fwd_key, fwd, bwd_key, bflops in plan:
            self._add(parents, fwd_key, fwd)
            if bflops:
                bwd.append((bwd_key, bflops))
        if bwd and getattr(out, "requires_grad", False):
            def hook(grad):
                if self in _ACTIVE:
                    for k, f in bwd:
                        self._add(parents, k, f)
            out.register_hook(hook)

    def __enter__(self):
        from .._ops import _registry
        self.flop_counts.clear()
        if _observe not in _registry.DISPATCH_OBSERVERS:
            _registry.DISPATCH_OBSERVERS.append(_observe)
        self.mod_tracker.__enter__()
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc) -> None:
        from .._ops import _registry
        _ACTIVE.remove(self)
        if not _ACTIVE and _observe in _registry.DISPATCH_OBSERVERS:
            _registry.DISPATCH_OBSERVERS.remove(_observe)
        self.mod_tracker.__exit__(*exc)
        if self.display:
            print(self.get_table(self.depth))

    def get_table(self, depth=None) -> str:
        """A text table: one row per module (to ``depth`` levels) with its FLOPs and share of the total,
        then one indented row per op."""
        depth = self.depth if depth is None else depth
        depth = 999999 if depth is None else depth
        total = self.get_total_flops()
        rows = [("Module", "FLOP", "% Total")]

        def pct(n):
            return f"{100 * n / total:.2f}%" if total else "0.00%"
        names = sorted(self.flop_counts, key=lambda n: (n != "Global", n))
        for mod in names:
            ops = self.flop_counts[mod]
            level = 0 if mod == "Global" else mod.count(".") + 1
            if level > depth:
                continue
            n = sum(ops.values())
            indent = " " * level
            rows.append((indent + mod, _suffix(n), pct(n)))
            for k, v in ops.items():
                rows.append((indent + " - " + k, _suffix(v), pct(v)))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def _suffix(n: int) -> str:
    for s, p in (("T", 12), ("B", 9), ("M", 6), ("K", 3)):
        if n >= 10 ** p:
            return f"{n / 10 ** p:.3f}{s}"
    return str(n)
