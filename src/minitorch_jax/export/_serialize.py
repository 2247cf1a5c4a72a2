"""``mt.export.save`` / ``mt.export.load``: an ExportedProgram as a file.

The file is an ``mt.jit.save`` program file (zip: StableHLO program, state arrays, meta.json),
its program serialized with its VJP (so a loaded ``ep.module()`` is differentiable), plus one
more member, ``export.json`` (the graph signature, input structure, dynamic dimensions
and output structure), so a loaded program checks and runs calls without the model's code.
``extra_files`` are stored as ``extra/<name>`` members.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import jax

from .._tensor import _wrap
from ..jit._export import TracedFunction
from ..jit._export import load as jit_load
from ..jit._export import save as jit_save
from ._export import build_signature
from ._program import ExportedProgram

__all__ = ["save", "load"]

_FORMAT = "minitorch_jax.export/1"


def _jsonable(meta: dict) -> dict:
    out = {k: v for k, v in meta.items() if k != "signature"}
    try:
        json.dumps(out)
    except TypeError as e:
        raise TypeError(f"mt.export.save: the program has a constant input that cannot be saved ({e}); only "
                        "numbers, strings, booleans and None can be saved as specialised inputs") from None
    return out


def save(ep, f, *, extra_files: dict | None = None, opset_version: dict | None = None,
         pickle_protocol: int = 2) -> None:
    """Write ``ep`` (program, weights, signature) to the path or binary file ``f``.

    Args:
        ep: an :class:`ExportedProgram`.
        f: a path or a binary file opened for writing.
        extra_files: ``{name: str or bytes}`` stored alongside (read back by ``load(extra_files=...)``).
    """
    if not isinstance(ep, ExportedProgram):
        raise TypeError(f"The 'ep' parameter must be an instance of 'ExportedProgram', got "
                        f"'{type(ep).__name__}' instead.")
    t = ep._traced
    data = [ep._tensors[k]._data for k in ep._meta["targets"]]
    state = ((data, [None] * len(data), list(t._state[0][2])), [])
    current = TracedFunction(t.name, t.exported, None, t.arg_meta, t.out_spec, state, t.state_paths)
    jit_buf = io.BytesIO()
    jit_save(current, jit_buf)
    buf = io.BytesIO()
    with zipfile.ZipFile(jit_buf) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        program = bytes(t.exported.serialize(vjp_order=1))  # the mt.jit file, its program with its VJP
        for item in src.namelist():
            z.writestr(item, program if item == "program" else src.read(item))
        z.writestr("export.json", json.dumps({"format": _FORMAT, **_jsonable(ep._meta)}))
        for name, content in (extra_files or {}).items():
            z.writestr(f"extra/{name}", content.encode() if isinstance(content, str) else bytes(content))
    payload = buf.getvalue()
    if hasattr(f, "write"):
        f.write(payload)
        return
    tmp = os.fspath(f) + ".tmp"
    with open(tmp, "wb") as out:
        out.write(payload)
    os.replace(tmp, os.fspath(f))


def load(f, *, extra_files: dict | None = None,
         expected_opset_version: dict | None = None) -> ExportedProgram:
    """Read a program written by :func:`save` (a path or binary file); no model code is needed.

    Args:
        f: a path or a binary file opened for reading.
        extra_files: ``{name: ""}``; each name present in the file is filled with its contents (str).

    Raises:
        RuntimeError: the file is not a valid, complete mt.export program.
    """
    where = f if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file>")
    if hasattr(f, "read"):
        raw = f.read()
    else:
        with open(f, "rb") as fh:
            raw = fh.read()
    try:
        traced = jit_load(io.BytesIO(raw))
    except RuntimeError as e:
        raise RuntimeError(f"mt.export.load: {where} is not a valid exported program file ({e})") from None
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        if "export.json" not in z.namelist():
            raise RuntimeError(f"mt.export.load: {where} is an mt.jit program, not an exported program; "
                               "read it with mt.jit.load")
        try:
            meta = json.loads(z.read("export.json"))
            if meta.pop("format", None) != _FORMAT:
                raise ValueError("unknown export format")
            for name in list(extra_files or {}):
                if f"extra/{name}" in z.namelist():
                    extra_files[name] = z.read(f"extra/{name}").decode()
            meta["order"] = [tuple(o) for o in meta["order"]]
            meta["signature"] = build_signature(meta)
        except Exception as e:
            raise RuntimeError(f"mt.export.load: {where} is not a valid exported program file (corrupt "
                               f"export.json: {type(e).__name__}: {e})") from None
    data = traced._state[0][0]
    tensors = {k: _wrap(jax.numpy.asarray(a)) for k, a in zip(meta["targets"], data)}
    for k in meta["params"]:
        tensors[k].requires_grad = True
    return ExportedProgram(traced, meta, tensors, example_inputs=None)
