"""Small rewrites of an exported ``onnx.ModelProto`` (plain protobuf edits, no jax2onnx internals).

- :func:`fix_max_pool`: jax2onnx lowers every ``lax.reduce_window`` max to a MaxPool over *all* the
  operand's dims (two Unsqueezes add N=1, C=1), so a 2d max pool over ``(N, C, H, W)`` becomes a 4-d
  MaxPool, which onnxruntime cannot run ("Unsupported pooling size"). When the leading window dims
  are trivial (size 1, stride 1, no padding), the operand already is ``(N, C, *spatial)`` (or
  ``(C, *spatial)``): pool it directly over the spatial dims.
- :func:`cast_io`: the graph is traced with 64-bit types off unless the model is float64, so int64
  inputs/outputs come out as int32; Cast nodes at the boundary restore the mt dtypes (int64 token
  ids are fed as int64, as with a torch export).
- :func:`set_dim_params`: name output dims listed in ``dynamic_axes``.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

__all__ = ["cast_io", "fix_max_pool", "prune", "set_dim_params"]


def _subgraphs(node):
    for attr in node.attribute:
        if attr.type == onnx.AttributeProto.GRAPH:
            yield attr.g
        elif attr.type == onnx.AttributeProto.GRAPHS:
            yield from attr.graphs


def _used_names(graph, acc=None):
    """Every value name read by a node of ``graph`` or its subgraphs, and the graph outputs."""
    acc = set() if acc is None else acc
    for node in graph.node:
        acc.update(n for n in node.input if n)
        for sub in _subgraphs(node):
            _used_names(sub, acc)
    acc.update(o.name for o in graph.output)
    return acc


def _rename_uses(graph, old, new):
    """Point every read of ``old`` (subgraphs included, unless one shadows it) at ``new``."""
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
        for sub in _subgraphs(node):
            shadows = any(v.name == old for v in sub.input) or any(t.name == old for t in sub.initializer)
            if not shadows:
                _rename_uses(sub, old, new)
                for o in sub.output:
                    if o.name == old:
                        o.name = new


def _const(graph, name):
    """The value of initializer or Constant node ``name``, or None."""
    for init in graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    for node in graph.node:
        if node.op_type == "Constant" and node.output and node.output[0] == name:
            for attr in node.attribute:
                if attr.name == "value":
                    return numpy_helper.to_array(attr.t)
    return None


def _axes(graph, node):
    """The ``axes`` of an (Un)Squeeze node as a list, from its input (opset 13+) or attribute."""
    if len(node.input) > 1 and node.input[1]:
        val = _const(graph, node.input[1])
        return None if val is None else [int(v) for v in np.ravel(val)]
    for attr in node.attribute:
        if attr.name == "axes":
            return list(attr.ints)
    return None


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def fix_max_pool(model: onnx.ModelProto) -> int:
    """Rewrite Unsqueeze-Unsqueeze-MaxPool-Squeeze chains into a MaxPool over the spatial dims.

    Returns the number of pools rewritten. Chains that do not match exactly are left alone.
    """
    graph = model.graph
    count = 0
    for pool in [n for n in graph.node if n.op_type == "MaxPool"]:
        producers = {o: n for n in graph.node for o in n.output}
        consumers: dict = {}
        for n in graph.node:
            for name in n.input:
                consumers.setdefault(name, []).append(n)
        outs = {o.name for o in graph.output}
        if len(pool.output) != 1:
            continue
        up1 = producers.get(pool.input[0])
        up0 = producers.get(up1.input[0]) if up1 is not None else None
        sq = consumers.get(pool.output[0], [])
        if (up1 is None or up0 is None or up1.op_type != "Unsqueeze" or up0.op_type != "Unsqueeze"
                or len(sq) != 1 or sq[0].op_type != "Squeeze" or pool.output[0] in outs
                or len(consumers.get(up1.output[0], [])) != 1 or up1.output[0] in outs):
            continue
        sq = sq[0]
        if _axes(graph, up0) != [0] or _axes(graph, up1) != [1] or _axes(graph, sq) != [0, 1]:
            continue
        a = _attrs(pool)
        k = list(a.get("kernel_shape", []))
        r = len(k)
        s = list(a.get("strides", [1] * r))
        p = list(a.get("pads", [0] * (2 * r)))
        d = list(a.get("dilations", [1] * r))
        auto_pad = a.get("auto_pad", b"NOTSET")
        if r == 0 or auto_pad not in (b"NOTSET", "NOTSET") or a.get("storage_order", 0) != 0:
            continue

        def trivial(i, k=k, s=s, p=p, d=d, r=r):
            return k[i] == 1 and s[i] == 1 and p[i] == 0 and p[r + i] == 0 and d[i] == 1

        if r >= 3 and trivial(0) and trivial(1):
            drop = 2
        elif r >= 2 and trivial(0):
            drop = 1
        else:
            continue
        kw = {"kernel_shape": k[drop:], "strides": s[drop:], "pads": p[drop:r] + p[r + drop:],
              "dilations": d[drop:]}
        if a.get("ceil_mode", 0):
            kw["ceil_mode"] = a["ceil_mode"]
        idx = list(graph.node).index(pool)
        if drop == 2:
            # (N, C, *spatial) is pooled as is; the Squeeze's output becomes the pool's output.
            new = helper.make_node("MaxPool", [up0.input[0]], [sq.output[0]], name=pool.name, **kw)
            gone = [up1, pool, sq]
            if len(consumers.get(up0.output[0], [])) == 1 and up0.output[0] not in outs:
                gone.append(up0)
        else:
            # (C, *spatial): add N=1 only (up0), pool, squeeze that one dim (up0's axes are [0]).
            new = helper.make_node("MaxPool", [up0.output[0]], [pool.output[0]], name=pool.name, **kw)
            sq.input[1:] = [up0.input[1]] if len(up0.input) > 1 else []
            if len(sq.input) == 1:
                for attr in sq.attribute:
                    if attr.name == "axes":
                        attr.ints[:] = [0]
            gone = [up1, pool]
            stale = [v for v in graph.value_info if v.name == pool.output[0]]  # its rank changed
            for v in stale:
                graph.value_info.remove(v)
        graph.node.insert(idx, new)
        for n in gone:
            graph.node.remove(n)
        count += 1
    if count:
        prune(model)
    return count


def prune(model: onnx.ModelProto) -> None:
    """Drop initializers nobody reads and value_info of values no node produces any more."""
    graph = model.graph
    used = _used_names(graph)
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    produced = {o for n in graph.node for o in n.output} | {v.name for v in graph.input}
    info = [v for v in graph.value_info if v.name in produced]
    del graph.value_info[:]
    graph.value_info.extend(info)


def _onnx_type(dtype):
    try:
        return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    except (KeyError, TypeError, ValueError):
        return None


def _fresh(graph, base):
    taken = {o for n in graph.node for o in n.output} | {v.name for v in graph.input} | \
        {t.name for t in graph.initializer}
    name, i = f"{base}__mt_cast", 0
    while name in taken:
        i += 1
        name = f"{base}__mt_cast{i}"
    return name


def cast_io(model: onnx.ModelProto, in_dtypes, out_dtypes) -> None:
    """Make graph input/output ``i`` have numpy dtype ``in_dtypes[i]``/``out_dtypes[i]``, adding a
    Cast to the graph's own type where they differ."""
    graph = model.graph
    for vi, want_dt in zip(list(graph.input), in_dtypes):
        want, have = _onnx_type(want_dt), vi.type.tensor_type.elem_type
        if want is None or want == have:
            continue
        inner = _fresh(graph, vi.name)
        _rename_uses(graph, vi.name, inner)
        for o in graph.output:  # an input passed straight through now leaves through the Cast
            if o.name == vi.name:
                o.name = inner
        graph.node.insert(0, helper.make_node("Cast", [vi.name], [inner], to=have))
        vi.type.tensor_type.elem_type = want
    for vo, want_dt in zip(list(graph.output), out_dtypes):
        want, have = _onnx_type(want_dt), vo.type.tensor_type.elem_type
        if want is None or want == have:
            continue
        producer = [n for n in graph.node if vo.name in n.output]
        if not producer:
            continue
        inner = _fresh(graph, vo.name)
        node = producer[0]
        node.output[list(node.output).index(vo.name)] = inner
        _rename_uses(graph, vo.name, inner)
        for v in graph.value_info:
            if v.name == vo.name:
                v.name = inner
        graph.node.append(helper.make_node("Cast", [inner], [vo.name], to=want))
        vo.type.tensor_type.elem_type = want


def set_dim_params(value_info, axes: dict) -> None:
    """Set dims ``{axis: name}`` of one graph input/output to the symbolic ``name``."""
    dims = value_info.type.tensor_type.shape.dim
    for axis, name in axes.items():
        if axis < len(dims):
            dims[axis].ClearField("dim_value")
            dims[axis].dim_param = name
