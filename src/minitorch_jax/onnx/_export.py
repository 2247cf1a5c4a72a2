"""``mt.onnx.export``: trace a Module or a function of Tensors to JAX and convert it with jax2onnx."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import os
import re
import warnings
from contextlib import contextmanager

import jax
import jax.numpy as jnp
import numpy as np

from .. import _grad_mode
from .._errors import TracedValueError
from .._tensor import Tensor, _wrap

__all__ = ["export", "is_onnx_available"]

_MISSING = ("mt.onnx.export needs the optional `jax2onnx` package: pip install 'minitorch_jax[onnx]'")
_NO_PLUGIN = re.compile(r"No plugins registered for primitive '([^']+)'")
_CONSTANT = (bool, int, float, complex, str, type(None))
_TWO_GB = 2**31 - 1


def is_onnx_available() -> bool:
    """True when ``jax2onnx`` and ``onnx`` (needed by :func:`export`) can be imported."""
    return all(importlib.util.find_spec(m) is not None for m in ("jax2onnx", "onnx"))


def _import_backend():
    try:
        jax2onnx = importlib.import_module("jax2onnx")
        onnx = importlib.import_module("onnx")
    except ImportError as err:
        raise ModuleNotFoundError(f"{_MISSING} (import failed: {err})", name="jax2onnx") from err
    from . import _graph
    return jax2onnx, onnx, _graph


def _unwrap_model(model):
    """The eager Module/function behind an ``mt.jit``/``mt.compile`` object."""
    from ..jit._compiled import CompiledFunction
    from ..jit._module import OptimizedModule

    while isinstance(model, (CompiledFunction, OptimizedModule)):
        model = model.eager
    return model


def _param_names(target, n_pos):
    """Names of the first ``n_pos`` positional parameters of ``target`` (``input_{i}`` when unknown)."""
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        else:
            break
    return [names[i] if i < len(names) else f"input_{i}" for i in range(n_pos)]


def _split(args, kwargs, where):
    """Per argument: ('tensor', Tensor) becomes a graph input; ('const', value) is baked in."""
    slots = []
    for label, value in [(f"args[{i}]", a) for i, a in enumerate(args)] + \
            [(f"kwargs[{k!r}]", v) for k, v in kwargs.items()]:
        if isinstance(value, Tensor):
            slots.append(("tensor", value))
        elif isinstance(value, _CONSTANT):
            slots.append(("const", value))
        else:
            raise TypeError(f"{where}: example inputs must be Tensors (or Python scalars, baked in as "
                            f"constants), but {label} is {type(value).__name__}")
    return slots


def _names(given, defaults, kind, where):
    if given is None:
        return list(defaults)
    if isinstance(given, (str, bytes)) or not all(isinstance(n, str) and n for n in given):
        raise TypeError(f"{where}: {kind} must be a list of non-empty strings, got {given!r}")
    given = list(given)
    if len(given) > len(defaults):
        raise ValueError(f"{where}: {kind} has {len(given)} names but the model has {len(defaults)} "
                         f"{kind.split('_')[0]}s: {given}")
    return given + list(defaults[len(given):])


def _parse_dynamic_axes(dynamic_axes, ranks, where):
    """``{name: {axis: dim_name}}`` from torch's ``{name: {axis: dim_name}}`` / ``{name: [axis, ...]}``."""
    if dynamic_axes is None:
        return {}
    if not isinstance(dynamic_axes, dict):
        raise TypeError(f"{where}: dynamic_axes must be a dict like {{'x': {{0: 'batch'}}}}, "
                        f"got {type(dynamic_axes).__name__}")
    out = {}
    for name, axes in dynamic_axes.items():
        if name not in ranks:
            raise ValueError(f"{where}: dynamic_axes names {name!r}, which is not an input or output "
                             f"name; the names are {list(ranks)}")
        if isinstance(axes, dict):
            pairs = list(axes.items())
        elif isinstance(axes, (list, tuple)):
            pairs = [(a, f"{name}_dynamic_axes_{i + 1}") for i, a in enumerate(axes)]
        else:
            raise TypeError(f"{where}: dynamic_axes[{name!r}] must be a dict {{axis: name}} or a list of "
                            f"axes, got {type(axes).__name__}")
        rank, fixed = ranks[name], {}
        for axis, dim in pairs:
            if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or \
                    not -rank <= axis < rank:
                raise ValueError(f"{where}: dynamic_axes[{name!r}] has axis {axis!r}, out of range for "
                                 f"a tensor of rank {rank}")
            if not isinstance(dim, str) or not dim.isidentifier():
                raise ValueError(f"{where}: dynamic_axes[{name!r}][{axis}] must be a dimension name that "
                                 f"is a Python identifier (e.g. 'batch'), got {dim!r}")
            fixed[int(axis) % rank] = dim
        out[name] = fixed
    return out


@contextmanager
def _eval_mode(model, module_cls):
    """Every submodule in eval mode for the export (as torch's default ``training=EVAL``), restored."""
    if not isinstance(model, module_cls):
        yield
        return
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, flag in flags:
            m.training = flag


def _flatten(out, acc):
    """Output arrays in torch's pytree order (dicts in insertion order; JAX would sort the keys)."""
    if isinstance(out, dict):
        for v in out.values():
            _flatten(v, acc)
    elif isinstance(out, (tuple, list)):
        for v in out:
            _flatten(v, acc)
    elif out is not None:
        acc.append(out._data if isinstance(out, Tensor) else out)
    return acc


def _is_array(v):
    return isinstance(v, jax.Array | jax.core.Tracer)


def _build_pure(model, module_cls, slots, n_args, keys, where):
    """A pure JAX function of the tensor slots' arrays returning a flat tuple of output arrays.

    A Module runs through ``mt.func.functional_call`` (as ``mt.interop.to_jax`` does) with its own
    parameters and buffers, which become constants of the trace (ONNX initializers); its state is
    left untouched by the trace.
    """
    if isinstance(model, module_cls):
        from ..func import functional_call

        params = {k: _wrap(v._data) for k, v in model.state_dict(keep_vars=True).items()}

        def call(args, kwargs):
            return functional_call(model, params, tuple(args), kwargs)
    else:
        def call(args, kwargs):
            return model(*args, **kwargs)

    def pure(*arrays):
        it = iter(arrays)
        vals = [_wrap(next(it)) if kind == "tensor" else v for kind, v in slots]
        seen = {id(a) for a in arrays}
        state = _grad_mode.STATE
        prev, state.grad = state.grad, False
        try:
            out = call(vals[:n_args], dict(zip(keys, vals[n_args:])))
        finally:
            state.grad = prev
        leaves = _flatten(out, [])
        bad = [type(v).__name__ for v in leaves if not _is_array(v)]
        if bad or not leaves:
            raise TypeError(f"{where}: the model must return a Tensor or a (nested) tuple/list/dict of "
                            f"Tensors, got {type(out).__name__}" + (f" holding {bad}" if bad else ""))
        fixed = []
        for leaf in leaves:  # an input returned as is, or one value returned twice: give it its own node
            if id(leaf) in seen and isinstance(leaf, jax.core.Tracer):
                leaf = jnp.copy(leaf)
            seen.add(id(leaf))
            fixed.append(leaf)
        return tuple(fixed)

    return pure


_DATA_DEPENDENT = tuple(e for e in (
    TracedValueError, jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError,
    jax.errors.NonConcreteBooleanIndexError) if e is not None)
_SYMBOLIC = tuple(e for e in (getattr(jax.errors, "InconclusiveDimensionOperation", None),) if e is not None)


@contextmanager
def _explained(where, dynamic):
    """Re-raise tracing/conversion failures as errors that say what to change."""
    try:
        yield
    except NotImplementedError as err:
        match = _NO_PLUGIN.search(str(err))
        if match is None:
            raise
        try:
            version = importlib.metadata.version("jax2onnx")
        except importlib.metadata.PackageNotFoundError:
            version = ""
        raise NotImplementedError(
            f"{where}: jax2onnx {version} cannot convert the JAX primitive '{match.group(1)}' used by the "
            "model; replace the op that lowers to it (or upgrade jax2onnx)") from err
    except _DATA_DEPENDENT as err:
        raise RuntimeError(
            f"{where}: the model needs the value of a tensor in Python (data-dependent control flow such "
            "as `if x.sum() > 0`, `.item()`, `.tolist()` or boolean-mask indexing), which an ONNX graph "
            f"cannot hold; rewrite it with mt.where / mt.cond. ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''})") from err
    except _SYMBOLIC as err:
        raise ValueError(
            f"{where}: the model uses a size named in dynamic_axes {dynamic} in a way that needs its "
            f"concrete value; keep that axis static. ({str(err).splitlines()[0]})") from err
    except Exception as err:
        err.add_note(f"(raised while tracing the model for {where})")
        raise


@contextmanager
def _quiet():
    """Mute the conversion's noise: JAX's int64->int32 notes (the trace runs with 64-bit types off
    unless the model is float64; :func:`_graph.cast_io` restores the I/O dtypes) and onnx_ir's
    warnings about untyped shape constants."""
    logger = logging.getLogger("onnx_ir")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Explicitly requested dtype", category=UserWarning)
            yield
    finally:
        logger.setLevel(level)


def _spec(arr, axes):
    shape = tuple(axes.get(i, n) for i, n in enumerate(arr.shape))
    return jax.ShapeDtypeStruct(shape, arr.dtype)


def _is_file(f):
    return hasattr(f, "write") and not isinstance(f, (str, os.PathLike))


def _check_target(f, where):
    if f is not None and not _is_file(f) and not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"{where}: f must be a path (str or os.PathLike), a writable binary file object "
                        f"or None, got {type(f).__name__}")


def _save(proto, f, onnx, where):
    if f is None:
        return
    if _is_file(f):
        if proto.ByteSize() > _TWO_GB:
            raise ValueError(f"{where}: the model is over 2 GB and needs external weight data; give a path, "
                             "not a file object")
        f.write(proto.SerializeToString())
        return
    path = os.fspath(f)
    if proto.ByteSize() > _TWO_GB:
        onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data")
    else:
        onnx.save_model(proto, path)


def _export(model, args=(), f=None, *, kwargs=None, input_names=None, output_names=None,
           dynamic_axes=None, opset_version=None, model_name=None, check=True):
    """Export ``model(*args, **kwargs)`` to ONNX, like ``torch.onnx.export``.

    The model runs once, in eval mode and without grad, traced to a JAX program (parameters and
    buffers become ONNX initializers), which the optional ``jax2onnx`` package converts to ONNX.

    Args:
        model: an ``mt.nn.Module`` (put in eval mode for the export, then restored), a function of
            Tensors (modules it uses are left in their mode: call ``.eval()`` on them first), or an
            ``mt.jit``/``mt.compile`` object of either.
        args: example inputs: a Tensor or a tuple of them (Python scalars are baked in as constants).
            Their shapes and dtypes are the graph inputs' (apart from ``dynamic_axes``).
        f: where to write the model: a path (``str``/``os.PathLike``), a binary file object, or None
            (nothing written; use the returned ModelProto).
        kwargs: keyword example inputs; Tensor values become graph inputs after the positional ones.
        input_names: names of the graph inputs, in order (default: the forward/function parameter
            names, then the kwargs keys). A shorter list names the first inputs only.
        output_names: names of the graph outputs (the model's output pytree, flattened; default
            ``"output"``, or ``"output_0"``, ``"output_1"``, ...).
        dynamic_axes: ``{name: {axis: dim_name}}`` or ``{name: [axis, ...]}`` for input/output names:
            those axes are symbolic in the graph (e.g. ``{"x": {0: "batch"}}``), so one file takes any
            size there. The same ``dim_name`` on two inputs means the same size. List form names
            dims ``f"{name}_dynamic_axes_{i + 1}"`` as torch does.
        opset_version: ONNX opset to target (default: jax2onnx's, 23 for jax2onnx 0.17).
        model_name: the graph's name (default: the Module's class or function name).
        check: run ``onnx.checker.check_model`` on the result (default True).

    Returns:
        The ``onnx.ModelProto`` (also written to ``f`` when given). torch's classic exporter returns
        None and its dynamo exporter an ``ONNXProgram``; the proto is what both wrap.

    Raises:
        ModuleNotFoundError: ``jax2onnx`` (or ``onnx``) is not installed.
        TypeError / ValueError: a bad ``model``, ``args``, names or ``dynamic_axes``.
        NotImplementedError: the model uses a JAX primitive jax2onnx cannot convert (named).
        RuntimeError: the model has data-dependent Python control flow.
    """
    where = "mt.onnx.export()"
    from ..nn import Module

    model = _unwrap_model(model)
    if not isinstance(model, Module) and not callable(model):
        raise TypeError(f"{where}: model must be an mt.nn.Module or a callable taking Tensors, got "
                        f"{type(model).__name__}")
    _check_target(f, where)
    jax2onnx, onnx, graph_fix = _import_backend()
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    if not isinstance(args, tuple):
        raise TypeError(f"{where}: args must be a Tensor or a tuple of Tensors, got {type(args).__name__}")
    kwargs = dict(kwargs or {})
    slots = _split(args, kwargs, where)
    target = model.forward if isinstance(model, Module) else model
    defaults = [n for (kind, _), n in zip(slots, _param_names(target, len(args)) + list(kwargs))
                if kind == "tensor"]
    tensors = [v for kind, v in slots if kind == "tensor"]
    if not tensors:
        raise ValueError(f"{where}: args/kwargs hold no Tensor, so the graph would have no inputs")
    in_names = _names(input_names, defaults, "input_names", where)
    arrays = [t._data for t in tensors]
    if isinstance(model, Module):
        name = model_name or type(model).__name__
    else:
        name = model_name or getattr(model, "__name__", None) or type(model).__name__
    name = re.sub(r"\W", "_", name) or "model"

    with _eval_mode(model, Module):
        pure = _build_pure(model, Module, slots, len(args), list(kwargs), where)
        with _explained(where, dynamic_axes):
            outs = jax.eval_shape(pure, *[jax.ShapeDtypeStruct(a.shape, a.dtype) for a in arrays])
        out_defaults = ["output"] if len(outs) == 1 else [f"output_{i}" for i in range(len(outs))]
        out_names = _names(output_names, out_defaults, "output_names", where)
        everything = in_names + out_names
        if len(set(everything)) != len(everything):
            dup = sorted({n for n in everything if everything.count(n) > 1})
            raise ValueError(f"{where}: input and output names must be unique, but {dup} repeat "
                             f"(inputs {in_names}, outputs {out_names})")
        ranks = {n: a.ndim for n, a in zip(in_names, arrays)}
        ranks.update({n: len(o.shape) for n, o in zip(out_names, outs)})
        axes = _parse_dynamic_axes(dynamic_axes, ranks, where)
        specs = [_spec(a, axes.get(n, {})) for n, a in zip(in_names, arrays)]
        params = [v for v in model.state_dict().values()] if isinstance(model, Module) else []
        double = any(np.dtype(x.dtype) == np.float64 for x in [*arrays, *outs, *(p._data for p in params)])
        opts = {} if opset_version is None else {"opset": int(opset_version)}
        with _explained(where, dynamic_axes), _quiet():
            proto = jax2onnx.to_onnx(pure, specs, model_name=name, enable_double_precision=double,
                                     input_names=in_names, output_names=out_names, **opts)
    graph_fix.fix_max_pool(proto)
    graph_fix.cast_io(proto, [a.dtype for a in arrays], [o.dtype for o in outs])
    by_name = {v.name: v for v in [*proto.graph.input, *proto.graph.output]}
    for n, ax in axes.items():
        if n in out_names and n in by_name:
            graph_fix.set_dim_params(by_name[n], ax)
    if check and proto.ByteSize() <= _TWO_GB:
        onnx.checker.check_model(proto)
    _save(proto, f, onnx, where)
    return proto


# jax2onnx replaces some jax functions with its own (jnp.cumsum becomes a wrapper taking ``axis`` only as a
# keyword) when it is imported or converts a program, and leaves them replaced: every later JAX program
# of this process would trace through them. Export restores the modules' attributes afterwards.
_GUARDED = ("jax", "jax.numpy", "jax.lax", "jax.nn", "jax.scipy.special")


@contextmanager
def _jax_functions_restored():
    mods = [importlib.import_module(m) for m in _GUARDED]
    saved = [dict(vars(m)) for m in mods]
    try:
        yield
    finally:
        for m, old in zip(mods, saved):
            for k, v in list(vars(m).items()):
                if k in old and old[k] is not v:
                    setattr(m, k, old[k])


@functools.wraps(_export)
def export(*args, **kwargs):
    with _jax_functions_restored():
        return _export(*args, **kwargs)
