"""``mt.distributed``: torch.distributed's process group and collectives on JAX's distributed runtime.

``init_process_group`` calls ``jax.distributed.initialize`` (reading torchrun's MASTER_ADDR,
MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK); collectives are XLA collectives over a mesh of one device
per process (gloo between CPU processes, NCCL between GPUs). Start scripts with the launcher
``python -m minitorch_jax.distributed.run --nproc-per-node N script.py args``.

``new_group(ranks)`` / ``new_subgroups(group_size)`` make subgroups; every collective takes ``group=``
(eagerly only the members call it, over a sub-mesh of their devices; inside an ``mt.jit`` step across
processes every process must call it, see ``_spmd``).
"""

from __future__ import annotations

from ._collectives import (
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    broadcast,
    broadcast_object_list,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from ._group import (
    Backend,
    GroupMember,
    ProcessGroup,
    ReduceOp,
    barrier,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_torchelastic_launched,
    new_group,
    new_subgroups,
    new_subgroups_by_enumeration,
)

__all__ = ["Work", "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce",
           "broadcast",
           "broadcast_object_list", "gather", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter",
           "Backend", "GroupMember", "ReduceOp", "barrier", "destroy_process_group", "get_backend",
           "get_rank",
           "get_world_size", "group", "init_process_group", "is_available", "is_initialized",
           "is_torchelastic_launched", "new_group", "ProcessGroup", "get_global_rank", "get_group_rank",
           "get_process_group_ranks", "new_subgroups", "new_subgroups_by_enumeration"]

from . import checkpoint  # noqa: E402  (torch.distributed.checkpoint; built on the collectives above)
