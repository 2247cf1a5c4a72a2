"""``mt.distributed``: torch.distributed's process group and collectives on JAX's distributed runtime.

``init_process_group`` calls ``jax.distributed.initialize`` (reading torchrun's MASTER_ADDR,
MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK); collectives are XLA collectives over a mesh of one device
per process (gloo between CPU processes, NCCL between GPUs). Start scripts with the launcher
``python -m minitorch_jax.distributed.run --nproc-per-node N script.py args``.

``new_group(ranks)`` / ``new_subgroups(group_size)`` make subgroups; every collective takes ``group=``
(eagerly only the members call it, over a sub-mesh of their devices; inside an ``mt.jit`` step across
processes every process must call it, see ``_spmd``).

Point-to-point (``send``/``recv``/``batch_isend_irecv``) are broadcasts over the two processes' sub-mesh
(``_p2p``); ``all_to_all*`` and the object collectives are built on all-gathers (``_exchange``);
``DeviceMesh``/``init_device_mesh`` arrange the process ranks in n-d with a group per dim
(``_device_mesh``).
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

from ._device_mesh import DeviceMesh, init_device_mesh  # noqa: E402
from ._errors import DistBackendError, DistError, DistNetworkError, DistStoreError, QueueEmptyError  # noqa: E402
from ._exchange import (  # noqa: E402
    all_gather_coalesced,
    all_gather_single,
    all_reduce_coalesced,
    all_to_all,
    all_to_all_single,
    gather_object,
    reduce_scatter_single,
    scatter_object_list,
)
from ._misc import (  # noqa: E402
    BackendConfig,
    DebugLevel,
    GroupName,
    breakpoint,
    get_backend_config,
    get_debug_level,
    get_default_backend_for_device,
    get_node_local_rank,
    get_pg_count,
    is_backend_available,
    is_gloo_available,
    is_mpi_available,
    is_nccl_available,
    is_ucc_available,
    is_xccl_available,
    monitored_barrier,
    record_comm,
    set_debug_level,
    set_debug_level_from_env,
    split_group,
    supports_complex,
)
from ._p2p import (  # noqa: E402
    P2POp,
    batch_isend_irecv,
    irecv,
    isend,
    recv,
    recv_object_list,
    send,
    send_object_list,
)

__all__ += ["DeviceMesh", "init_device_mesh", "DistError", "DistBackendError", "DistNetworkError",
            "DistStoreError", "QueueEmptyError", "all_gather_coalesced", "all_gather_single",
            "all_reduce_coalesced", "all_to_all", "all_to_all_single", "gather_object",
            "reduce_scatter_single",
            "scatter_object_list", "DebugLevel", "breakpoint", "get_debug_level",
            "get_default_backend_for_device", "get_node_local_rank", "get_pg_count", "is_backend_available",
            "is_gloo_available", "is_mpi_available", "is_nccl_available", "is_ucc_available",
            "is_xccl_available", "monitored_barrier", "set_debug_level", "set_debug_level_from_env",
            "split_group", "supports_complex", "P2POp", "batch_isend_irecv", "irecv", "isend", "recv",
            "recv_object_list", "send", "send_object_list", "BackendConfig", "GroupName",
            "get_backend_config",
            "record_comm"]

from ._rendezvous import register_rendezvous_handler, rendezvous  # noqa: E402
from ._store import FileStore, HashStore, PrefixStore, Store, TCPStore  # noqa: E402

__all__ += ["Store", "HashStore", "TCPStore", "FileStore", "PrefixStore", "rendezvous",
            "register_rendezvous_handler"]

from . import checkpoint  # noqa: E402  (torch.distributed.checkpoint; built on the collectives above)
