"""``torch.func.rearrange``: einops-style reordering of a tensor's dimensions from a pattern such as
``"b (h w) c -> b c h w"``: one ``reshape`` into the pattern's elementary axes, one ``permute``, one
``reshape`` into the output's groups (each skipped when it would do nothing), so it records autograd,
returns views where ``reshape`` does, and compiles under ``mt.jit`` like the ops it is made of."""

from __future__ import annotations

import math
import re

from .._errors import OpValueError
from .._tensor import Tensor

__all__ = ["rearrange"]

_TOKEN = re.compile(r"\.\.\.|[()]|[^\s()]+")
_ELLIPSIS = "..."


def rearrange(tensor, pattern: str, **axes_lengths: int) -> Tensor:
    """Reorder the dimensions of ``tensor`` as ``pattern`` says (einops' ``rearrange``).

    The pattern is ``"left -> right"``. Each side lists the tensor's dimensions by name; a
    parenthesised group on the left splits one dimension into several (``(h w)``), on the right
    merges several into one; ``...`` stands for the dimensions not named; ``1`` or ``()`` is a
    dimension of size 1 (removed from the left, added on the right). Every name must appear on both
    sides, once.

    Args:
        tensor: a Tensor, or a sequence of Tensors of one shape (stacked along a new first dim).
        pattern: the rearrangement, e.g. ``"b h w c -> b c h w"``.
        **axes_lengths: sizes of named axes a split cannot infer (``h1=2``).

    Returns:
        The rearranged tensor.

    Example::

        >>> x = mt.randn(32, 30, 40, 3)
        >>> rearrange(x, "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2, w1=2).shape
        minitorch_jax.Size([32, 15, 20, 12])
    """
    if isinstance(tensor, (list, tuple)):
        from .. import stack
        tensor = stack(list(tensor))
    if not isinstance(tensor, Tensor):
        raise OpValueError(f"rearrange(): expected a Tensor or a sequence of Tensors, got "
                           f"{type(tensor).__name__}")
    if not isinstance(pattern, str) or pattern.count("->") != 1:
        raise OpValueError(f"rearrange(): the pattern must have the form 'left -> right', got {pattern!r}")
    left_text, right_text = pattern.split("->")
    left, right = _parse(left_text, pattern, "left"), _parse(right_text, pattern, "right")
    _check_names(left, right, axes_lengths, pattern)
    n_named = sum(1 for g in left if g != [_ELLIPSIS])
    if any(_ELLIPSIS in g for g in left):
        n_ell = tensor.ndim - n_named
        if n_ell < 0:
            raise OpValueError(f"rearrange(): pattern {pattern!r} names {n_named} dimensions, more than the "
                               f"tensor's {tensor.ndim}")
    else:
        n_ell = 0
        if n_named != tensor.ndim:
            raise OpValueError(f"rearrange(): Number of dimensions in pattern ({n_named}) must be equal to "
                               f"the number of dimensions in the tensor ({tensor.ndim})")
    ell = [f"...{i}" for i in range(n_ell)]
    left = _expand(left, ell, split=True)
    right = _expand(right, ell, split=False)
    sizes = _bind(left, tensor.shape, axes_lengths, pattern)
    axes = [a for g in left for a in g]
    out = tensor
    split_shape = tuple(sizes[a] for a in axes)
    if split_shape != tuple(tensor.shape):
        out = out.reshape(split_shape)
    order = [axes.index(a) for g in right for a in g]
    if order != list(range(len(order))):
        out = out.permute(*order)
    shape = tuple(math.prod(sizes[a] for a in g) for g in right)
    if shape != tuple(out.shape):
        out = out.reshape(shape)
    return out


def _parse(text, pattern, side):
    """The groups of one side: a list per dimension, of its axis names (``[]`` for ``1``/``()``)."""
    groups, current = [], None
    for tok in _TOKEN.findall(text):
        if tok == "(":
            if current is not None:
                raise OpValueError(f"rearrange(): nested parentheses in pattern {pattern!r}")
            current = []
        elif tok == ")":
            if current is None:
                raise OpValueError(f"rearrange(): unbalanced ')' in pattern {pattern!r}")
            groups.append(current)
            current = None
        else:
            if tok == "1":
                names = []
            elif tok == _ELLIPSIS or tok.isidentifier():
                names = [tok]
            elif tok.isdigit():
                raise OpValueError(f"rearrange(): rearrange only supports unnamed axes of size 1, got {tok} "
                                   f"in pattern {pattern!r}")
            else:
                raise OpValueError(f"rearrange(): {tok!r} in pattern {pattern!r} is not a valid axis name")
            if current is None:
                groups.append(names)
            else:
                current.extend(names)
    if current is not None:
        raise OpValueError(f"rearrange(): unbalanced '(' in pattern {pattern!r}")
    flat = [a for g in groups for a in g]
    if flat.count(_ELLIPSIS) > 1:
        raise OpValueError(f"rearrange(): more than one '...' on the {side} of pattern {pattern!r}")
    for a in flat:
        if a != _ELLIPSIS and flat.count(a) > 1:
            raise OpValueError(f"rearrange(): Indexing expression contains duplicate dimension {a!r} "
                               f"(pattern {pattern!r})")
    if side == "left" and any(_ELLIPSIS in g and len(g) > 1 for g in groups):
        raise OpValueError(f"rearrange(): '...' cannot be inside parentheses on the left of pattern "
                           f"{pattern!r}")
    return groups


def _check_names(left, right, axes_lengths, pattern):
    lnames = {a for g in left for a in g}
    rnames = {a for g in right for a in g}
    only = lnames ^ rnames
    if only:
        raise OpValueError(f"rearrange(): Identifiers only on one side of rearrange expression (should be "
                           f"on both): {sorted(only)} in pattern {pattern!r}")
    unknown = set(axes_lengths) - lnames
    if unknown:
        raise OpValueError(f"rearrange(): Identifiers not found in rearrange expression: {sorted(unknown)} "
                           f"(pattern {pattern!r})")


def _expand(groups, ell, split):
    """Replace ``...`` by the dimensions it stands for: separate groups where it stands alone (and
    always on the left), merged into its group where it is inside parentheses on the right."""
    out = []
    for g in groups:
        if _ELLIPSIS not in g:
            out.append(g)
        elif split or g == [_ELLIPSIS]:
            out.extend([a] for a in ell)
        else:
            i = g.index(_ELLIPSIS)
            out.append(g[:i] + ell + g[i + 1:])
    return out


def _bind(left, shape, axes_lengths, pattern):
    """The size of every axis of the left side, from the tensor's shape and ``axes_lengths``."""
    sizes = {}
    for g, n in zip(left, shape):
        known = [axes_lengths[a] for a in g if a in axes_lengths]
        free = [a for a in g if a not in axes_lengths]
        prod = math.prod(known)
        if len(free) > 1:
            raise OpValueError(f"rearrange(): cannot infer the sizes of two dimensions at once: "
                               f"{' and '.join(free)} in group ({' '.join(g)}) of size {n} (pattern "
                               f"{pattern!r}); give all but one in axes_lengths")
        if free:
            if prod == 0 or n % prod:
                raise OpValueError(f"rearrange(): inferred dimension does not evenly fit into larger "
                                   f"dimension: {n} vs {prod} for group ({' '.join(g)}) (pattern "
                                   f"{pattern!r})")
            sizes[free[0]] = n // prod
        elif prod != n:
            what = f"({' '.join(g)})" if g else "1"
            raise OpValueError(f"rearrange(): Dimension sizes do not match ({n} != {prod}) when matching "
                               f"{what} (pattern {pattern!r})")
        for a in g:
            if a in axes_lengths:
                sizes[a] = axes_lengths[a]
    return sizes
