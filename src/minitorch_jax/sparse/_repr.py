"""Printing of sparse tensors, in torch's format:

``tensor(indices=tensor(...),\n       values=tensor(...),\n       size=(2, 3), nnz=4,
layout=torch.sparse_coo)``.
"""

from __future__ import annotations

import numpy as np

from .._repr import _OPTS, _body, _default_dtypes, _host

__all__ = ["sparse_repr"]

_PREFIX = "tensor("


def _part(name: str, t, col: int) -> str:
    a = _host(t)
    if a is None:
        return f"{name}=tensor(<traced>, size={tuple(t.shape)})"
    body = "[]" if a.size == 0 else _body(np.asarray(a), t.dtype, col + len(name) + 1 + len(_PREFIX))
    if a.size == 0 and a.ndim != 1:
        return f"{name}=tensor({body}, size={tuple(a.shape)})"
    return f"{name}=tensor({body})"


def sparse_repr(s, parts, force_newline: bool) -> str:
    """torch's text for a sparse tensor ``s`` whose stored tensors are ``parts`` [(name, tensor)]."""
    indent = len(_PREFIX)
    texts = [_part(name, t, indent) for name, t in parts]
    head = _PREFIX + (",\n" + " " * indent).join(texts)
    suffixes = [f"size={tuple(s.shape)}", f"nnz={s._nnz()}"]
    dt = s.dtype
    if dt not in _default_dtypes():
        suffixes.append(f"dtype={dt}")
    suffixes.append(f"layout={s.layout}")
    gf = s.grad_fn
    if gf is not None:
        suffixes.append(f"grad_fn=<{type(gf).__name__}>")
    elif s.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(head, suffixes, indent, force_newline) + ")"


def _add_suffixes(text: str, suffixes: list[str], indent: int, force_newline: bool) -> str:
    """Join suffixes with ', ', breaking lines where torch does (lengths counted as torch spells
    them; the first suffix starts a new line when ``force_newline``)."""
    out = [text]
    line_len = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        n = len(s.replace("minitorch_jax.", "torch."))
        if force_newline or line_len + n + 2 > _OPTS["linewidth"]:
            out.append(",\n" + " " * indent + s)
            line_len = indent + n
            force_newline = False
        else:
            out.append(", " + s)
            line_len += n + 2
    return "".join(out)
