"""The rest of ``torch.func``: model ensembling, linearize, functionalize and batch-norm patching.

- :func:`stack_module_state` stacks the parameters/buffers of ``M`` same-class modules for
  ``vmap(functional_call(...))`` ensembling.
- :func:`linearize` is ``jax.linearize``: the function is traced once, and the returned
  ``jvp_fn`` evaluates the linearised program on new tangents.
- :func:`functionalize` returns a function that behaves like ``func``: minitorch_jax tensors hold
  immutable JAX arrays (in-place ops rebind them and views are recomputed, never aliased), so there
  are no aliasing mutations to remove and every program is already "functional".
- :func:`replace_all_batch_norm_modules_` turns off running statistics, as torch does.
- :func:`debug_unwrap`: minitorch_jax never hands wrapped (batched/dual) tensors to user code -
  inside transforms tensors hold plain JAX tracers - so it returns its argument.
"""

from __future__ import annotations

import jax

from .. import _grad_mode
from .._tensor import Tensor, _wrap

__all__ = ["stack_module_state", "linearize", "functionalize", "replace_all_batch_norm_modules_",
           "debug_unwrap"]


def _stacked_leaf(tensors, name: str) -> Tensor:
    import minitorch_jax as mt

    req = tensors[0].requires_grad
    if any(t.requires_grad != req for t in tensors):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    with _grad_mode.no_grad():
        out = mt.stack([t.detach() for t in tensors])
    out = _wrap(out._data)
    if req:
        out.requires_grad_(True)
    return out


def stack_module_state(models):
    """Stack the parameters and buffers of ``M`` modules of one class (for ensembling with vmap).

    Args:
        models: a sequence (or ``nn.ModuleList``) of modules of the same class and mode.

    Returns:
        ``(params, buffers)``: two dicts from state-dict names to tensors of shape
        ``(M, *original_shape)``. The stacked parameters are new leaves (requiring grad where the
        originals did), unrelated to the modules' own parameters.

    Example::

        params, buffers = mt.func.stack_module_state(models)
        base = copy.deepcopy(models[0])   # torch's .to("meta") is not supported (no meta device)
        out = mt.func.vmap(lambda p, b, x: mt.func.functional_call(base, (p, b), (x,)),
                           in_dims=(0, 0, None))(params, buffers, x)   # (M, N, out)
    """
    models = list(models)
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    typ = type(models[0])
    if not all(type(m) is typ for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: _stacked_leaf([p[k] for p in all_params], k) for k in all_params[0]}
    all_bufs = [dict(m.named_buffers()) for m in models]
    buffers = {k: _stacked_leaf([b[k] for b in all_bufs], k) for k in all_bufs[0]}
    return params, buffers


def linearize(func, *primals):
    """Evaluate ``func(*primals)`` and return ``(output, jvp_fn)``, with ``jvp_fn(*tangents)`` the
    Jacobian-vector product of ``func`` at ``primals`` (``jax.linearize``: traced once, replayed).

    Args:
        func: a function of Tensors returning a Tensor or a pytree of Tensors.
        primals: the point to linearise at (Tensors or pytrees of Tensors).

    Returns:
        ``(output, jvp_fn)``; ``jvp_fn`` takes one tangent per primal, shaped like it.
    """
    from . import _call_plain, _to_arrays, _to_tensors

    def pure(*arrays):
        return _to_arrays(_call_plain(func, _to_tensors(arrays), {}))

    p = _to_arrays(primals)
    p_leaves, p_def = jax.tree_util.tree_flatten(p)
    out, lin = jax.linearize(pure, *p)

    def jvp_fn(*tangents):
        """The Jacobian of ``func`` at the primals applied to ``tangents`` (one per primal)."""
        t = _to_arrays(tangents)
        t_leaves, t_def = jax.tree_util.tree_flatten(t)
        if t_def != p_def:
            raise RuntimeError(f"Expected the tangents {t_def} to have the same argspec as the primals "
                               f"{p_def}")
        for i, (a, b) in enumerate(zip(t_leaves, p_leaves)):
            if a.shape != b.shape:
                raise RuntimeError(f"tangent:{i} with shape {list(a.shape)} in flattened pytree doesn't "
                                   f"match the shape {list(b.shape)} of the corresponding primal.")
        t_leaves = [a.astype(b.dtype) for a, b in zip(t_leaves, p_leaves)]
        return _to_tensors(lin(*jax.tree_util.tree_unflatten(p_def, t_leaves)))

    return _to_tensors(out), jvp_fn


_REMOVE_MSG = (
    "functionalize(f, remove='mutations'): received invalid argument for remove={remove}. "
    "Valid options are:\n"
    "     remove='mutations': all inplace and out= operators will be removed from the program, and replaced "
    "with their out-of-place equivalents.\n"
    "     remove='mutations_and_views': In addition to the above, all aliasing operators {{view}} will be "
    "replaced with their non-aliasing counterparts, {{view}}_copy.\n")


def functionalize(func, *, remove: str = "mutations"):
    """Return ``func`` with mutations removed - which, here, is ``func`` itself (same behaviour).

    minitorch_jax's in-place ops rebind a tensor's immutable JAX array and its views are recomputed,
    not aliased, so a program never mutates shared memory: it is already functional, and JAX traces
    (``mt.jit``, ``mt.func``) see only out-of-place operations.

    Args:
        func: the function.
        remove: ``'mutations'`` or ``'mutations_and_views'`` (checked as in torch).
    """
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(_REMOVE_MSG.format(remove=remove))
    return func


def replace_all_batch_norm_modules_(root):
    """Make every batch-norm layer under ``root`` stop tracking running statistics, in place.

    Sets ``running_mean``, ``running_var`` and ``num_batches_tracked`` to None and
    ``track_running_stats`` to False (batch statistics are then used in train and eval mode), as
    ``vmap`` over a batch-norm model needs. Returns ``root``.
    """
    from ..nn.modules.batchnorm import _BatchNorm

    for m in root.modules():
        if isinstance(m, _BatchNorm):
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                if name in m._buffers:
                    m._buffers[name] = None
                else:
                    setattr(m, name, None)
            m.track_running_stats = False
    return root


def debug_unwrap(tensor, *, recurse: bool = True):
    """Return the plain tensor inside a transform's wrapper: minitorch_jax has no wrapper tensors
    (transforms hand user code ordinary Tensors around JAX tracers), so ``tensor`` is returned."""
    return tensor
