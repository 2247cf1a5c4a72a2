"""``mt.jit.trace``, ``mt.jit.save``, ``mt.jit.load``: a function or module - or a whole training
step - as a serialized XLA program (``jax.export``, StableHLO) with its state, runnable in a
process that never imports the model's code.

The program takes the captured state (parameters, buffers, gradients, optimizer state, RNG
keys, learning rates) and the arguments, and returns the outputs and the new state; a loaded
program keeps its state and carries it from call to call, so a loaded training step goes on
training.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
from jax import export as jax_export

from .. import _dtype
from .._grad_mode import STATE
from .._tensor import Tensor, _wrap
from . import _capture
from ._compiled import CompiledFunction, JitError, _flatten_args, _Leaked
from ._torchscript import tracing

__all__ = ["trace", "trace_module", "save", "load", "TracedFunction", "LoadedFunction"]

_FORMAT = "minitorch_jax.jit.program/1"


def _out_to_json(spec):
    kind = spec[0]
    if kind == "T" or kind == "A":
        return {"t": "T"}
    if kind == "P":
        raise JitError("mt.jit.trace: the function returns a sparse or masked tensor; a saved program "
                       "returns dense tensors only: return its parts (indices and values, or data and mask)")
    if kind in ("L", "U") or (isinstance(kind, tuple) and kind[0] == "N"):
        return {"t": "L" if kind == "L" else "U", "items": [_out_to_json(s) for s in spec[1]]}
    if kind == "D":
        return {"t": "D", "items": [[k, _out_to_json(s)] for k, s in spec[1]]}
    value = spec[1]
    if not isinstance(value, (int, float, str, bool, type(None))):
        raise JitError(f"mt.jit.trace: the function returns a {type(value).__name__}; only tensors, numbers, "
                       "strings, None and lists/tuples/dicts of them can be exported")
    return {"t": "S", "v": value}


def _out_from_json(spec, it):
    t = spec["t"]
    if t == "T":
        return next(it)
    if t == "L":
        return [_out_from_json(s, it) for s in spec["items"]]
    if t == "U":
        return tuple(_out_from_json(s, it) for s in spec["items"])
    if t == "D":
        return {k: _out_from_json(s, it) for k, s in spec["items"]}
    return spec["v"]


def _dtype_name(d) -> str:
    return _dtype.from_np(np.dtype(d)).name


class TracedFunction:
    """The result of :func:`trace`: a program with its state, callable like the original.

    Attributes:
        graph: the program as a jaxpr listing.
        exported: the ``jax.export.Exported`` program.
    """

    def __init__(self, name, exported, jaxpr, arg_meta, out_spec, state, paths):
        self.name = name
        self.exported = exported
        self._jaxpr = jaxpr
        self.arg_meta = arg_meta
        self.out_spec = out_spec
        self._state = state
        self.state_paths = paths

    @property
    def graph(self) -> str:
        """The program: jax's jaxpr listing (StableHLO text for a loaded program)."""
        return str(self._jaxpr) if self._jaxpr is not None else self.exported.mlir_module()

    def __repr__(self) -> str:
        sig = ", ".join(f"{m['dtype']}{m['shape']}" for m in self.arg_meta)
        return f"<mt.jit traced {self.name}({sig}) with {len(self.state_paths)} state tensor(s)>"

    def _check(self, arrays):
        if len(arrays) != len(self.arg_meta):
            raise TypeError(f"{self.name}: expected {len(self.arg_meta)} tensor argument(s), "
                            f"got {len(arrays)}")
        for i, (a, m) in enumerate(zip(arrays, self.arg_meta)):
            shape = list(a.shape)
            ok = len(shape) == len(m["shape"]) and all(
                isinstance(e, str) or e == s for e, s in zip(m["shape"], shape))
            if not ok or _dtype_name(a.dtype) != m["dtype"]:
                raise ValueError(f"{self.name}: input {i} expects shape {m['shape']} and dtype {m['dtype']}, "
                                 f"got shape {shape} and dtype {_dtype_name(a.dtype)}")

    def __call__(self, *args):
        arrays = []
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
            elif isinstance(a, (np.ndarray, jax.Array)):
                arrays.append(jnp.asarray(a))
            else:
                raise TypeError(f"{self.name}: the program takes tensors, got {type(a).__name__}")
        self._check(arrays)
        outs, new_state = self.exported.call(self._state, arrays)
        self._state = new_state
        return _out_from_json(self.out_spec, iter(_wrap(o) for o in outs))

    def save(self, f) -> None:
        """Write this program to the path or binary file ``f`` (``traced.save(path)``, as torch's traced
        modules do; the same as :func:`save`)."""
        save(self, f)

    def state_dict(self) -> dict:
        """The program's current state tensors, by path (``model.0.weight``, ``opt.state[0]['exp_avg']``)."""
        data = self._state[0][0]
        return {p: _wrap(a) for p, a in zip(self.state_paths, data)}


def trace(fn, example_inputs, *, dynamic_batch: bool = False, check_trace: bool = True,
          _run_first: bool = True):
    """Run ``fn`` once on ``example_inputs`` and record it as one program with its state.

    Args:
        fn: a function or Module; it may close over modules and optimizers (a training step).
        example_inputs: a Tensor or a tuple of Tensors.
        dynamic_batch: make dim 0 of every input symbolic (any batch size at call time).
        check_trace: accepted for torch compatibility.

    Like ``torch.jit.trace``, ``fn`` really runs once (so a training step takes one step, and
    lazily created state such as optimizer moments exists before recording).
    """
    args = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
    for i, a in enumerate(args):
        if not isinstance(a, Tensor) or hasattr(type(a), "_flatten"):
            raise TypeError(f"mt.jit.trace: example input {i} is a {type(a).__name__}; pass (dense) Tensors")
    with tracing():
        return _trace(fn, args, dynamic_batch, _run_first)


def _trace(fn, args, dynamic_batch, run_first):
    if run_first:  # run once: creates gradients and lazily created state, as torch.jit.trace runs fn
        fn(*args)
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    cf = CompiledFunction(fn, donate=False, name=name)
    cap = _capture.discover(_capture.roots_of(fn, args, {}))
    dyn, spec = _flatten_args(args, {}, ())
    roots = _capture.roots_of(fn, args, {})
    run = cf._trace_fn(cap, spec, {}, STATE.grad, roots, "export")
    state = cf._gather(cap)
    hp = cf._hp(cap)
    hp = [h for h in hp] if not isinstance(hp, list) else hp  # one array per value in the file
    full_state = (state, hp)

    def program(full_state, arrays):
        (data, grads, keys), hp = full_state
        outs, new_state = run((data, grads, keys), arrays, hp)
        return outs, (new_state, hp)

    scope = jax_export.SymbolicScope()
    if dynamic_batch:
        batch, = jax_export.symbolic_shape("batch", scope=scope)
        arg_specs = [jax.ShapeDtypeStruct((batch, *a.shape[1:]), a.dtype) if a.ndim else
                     jax.ShapeDtypeStruct(a.shape, a.dtype) for a in dyn]
    else:
        arg_specs = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in dyn]
    state_specs = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a)),
                                         full_state)
    try:
        exported = jax_export.export(jax.jit(program))(state_specs, arg_specs)
        jaxpr = jax.make_jaxpr(program)(full_state, list(dyn))
    except _Leaked as e:
        raise JitError(f"mt.jit.trace({name}): the function stores a new tensor in "
                       f"{e.leaks[0][0]} while running; return it instead") from None
    arg_meta = [{"shape": [("batch" if (dynamic_batch and j == 0) else int(s))
                           for j, s in enumerate(a.shape)],
                 "dtype": _dtype_name(a.dtype)} for a in dyn]
    out_spec = _out_to_json(cf._meta[0])
    return TracedFunction(name, exported, jaxpr, arg_meta, out_spec, full_state, list(cap.paths))


def trace_module(mod, inputs: dict, **kwargs) -> TracedFunction:
    """``torch.jit.trace_module``: trace ``mod``'s ``forward`` on ``inputs['forward']`` (see :func:`trace`).

    Raises:
        ValueError: ``inputs`` names a method other than ``forward`` (one program per trace here).
    """
    if not isinstance(inputs, dict) or "forward" not in inputs:
        raise ValueError("mt.jit.trace_module: inputs must be a dict {'forward': example_inputs}")
    other = sorted(set(inputs) - {"forward"})
    if other:
        raise ValueError(f"mt.jit.trace_module: only 'forward' can be traced here, got methods {other}; "
                         "trace each method with mt.jit.trace(getattr(mod, name), example_inputs)")
    return trace(mod, inputs["forward"], **kwargs)


def _array_bytes(a) -> tuple:
    arr = np.asarray(a)
    return arr.tobytes(), {"shape": list(arr.shape), "dtype": jnp.dtype(arr.dtype).name}


def save(traced: TracedFunction, f) -> None:
    """Write ``traced`` (program, state, signature) to the path or binary file ``f``.

    A path is written atomically (temporary file, fsync, rename)."""
    if not isinstance(traced, TracedFunction):
        from ._script import ScriptFunction, ScriptModule
        if isinstance(traced, (ScriptModule, ScriptFunction)):  # torch.jit.save(torch.jit.script(m), f)
            traced.save(f)
            return
        raise TypeError(f"mt.jit.save: expected the result of mt.jit.trace or mt.jit.script, got "
                        f"{type(traced).__name__}")
    try:
        program = traced.exported.serialize()
    except ImportError as e:  # pragma: no cover - flatbuffers is a dependency
        raise JitError(f"mt.jit.save: {e}") from None
    leaves = jax.tree_util.tree_leaves(traced._state)
    none_mask = _none_mask(traced._state)
    meta = {"format": _FORMAT, "name": traced.name, "args": traced.arg_meta, "out": traced.out_spec,
            "paths": traced.state_paths, "none_mask": none_mask, "jax": jax.__version__, "arrays": [],
            "n_keys": len(traced._state[0][2])}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i, leaf in enumerate(leaves):
            data, info = _array_bytes(leaf)
            meta["arrays"].append(info)
            z.writestr(f"state/{i}", data)
        z.writestr("program", bytes(program))
        z.writestr("meta.json", json.dumps(meta))
    payload = buf.getvalue()
    if hasattr(f, "write"):
        f.write(payload)
        return
    path = os.fspath(f)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".mtjit-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _none_mask(state):
    """The positions of None gradients in the state (they are not arrays in the file)."""
    (data, grads, keys), hp = state
    return [g is None for g in grads]


class LoadedFunction(TracedFunction):
    """A program read by :func:`load` (no model code needed). Call it like the traced function."""


def load(f, map_location=None) -> LoadedFunction:
    """Read a program written by :func:`save` (a path or binary file).

    Raises:
        RuntimeError: the file is not a valid, complete mt.jit program.
    """
    where = f if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file>")
    try:
        raw = f.read() if hasattr(f, "read") else open(f, "rb").read()
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            meta = json.loads(z.read("meta.json"))
            if meta.get("format") != _FORMAT:
                raise ValueError(f"unknown format {meta.get('format')!r}")
            arrays = []
            for i, info in enumerate(meta["arrays"]):
                dt = jnp.dtype(info["dtype"])
                data = z.read(f"state/{i}")
                arrays.append(jnp.asarray(np.frombuffer(data, dtype=dt).reshape(info["shape"])))
            program = jax_export.deserialize(bytearray(z.read("program")))
    except FileNotFoundError:
        raise
    except Exception as e:
        raise RuntimeError(f"mt.jit.load: {where} is not a valid mt.jit program file (corrupt, truncated or "
                           f"another format): {type(e).__name__}: {e}") from None
    n = len(meta["paths"])
    none_mask = meta["none_mask"]
    it = iter(arrays)
    data = [next(it) for _ in range(n)]
    grads = [None if none else next(it) for none in none_mask]
    rest = list(it)
    keys, hp = rest[:meta["n_keys"]], rest[meta["n_keys"]:]
    state = ((data, grads, keys), hp)
    return LoadedFunction(meta["name"], program, None, meta["args"], meta["out"], state, meta["paths"])
