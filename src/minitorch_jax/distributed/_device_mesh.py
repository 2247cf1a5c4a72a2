"""``DeviceMesh`` and ``init_device_mesh``: an n-d arrangement of the processes with one group per mesh dim.

A mesh here is a mesh of **process ranks** (each process drives one device, as under torchrun): for a
mesh of shape ``(2, 2)`` named ``("dp", "tp")``, ``get_group("tp")`` is the :class:`ProcessGroup` of the
processes in this process's row, usable as ``group=`` in every collective. ``init_device_mesh`` makes
the groups with :func:`new_group`, so every process must call it alike (as in torch). Slicing by name,
``mesh["dp"]`` or ``mesh[("dp", "tp")]``, gives the sub-mesh holding this process, sharing the groups.
"""

from __future__ import annotations

import numpy as np

from . import _group

__all__ = ["DeviceMesh", "init_device_mesh"]


class DeviceMesh:
    """An n-d mesh of process ranks (torch's ``DeviceMesh``).

    Args:
        device_type: 'cpu' or 'cuda' (informational: each process uses its own device).
        mesh: an n-d array-like of the global ranks (every rank of the mesh exactly once).
        mesh_dim_names: a name per dim (for ``mesh["name"]`` and ``get_group("name")``).
    """

    def __init__(self, device_type: str, mesh=None, *, mesh_dim_names=None, _groups=None):
        _group._require()
        if mesh is None:
            raise ValueError("DeviceMesh(): mesh (an array of global ranks) is required")
        arr = np.asarray(getattr(mesh, "tolist", lambda: mesh)(), dtype=np.int64)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if len(np.unique(arr)) != arr.size:
            raise RuntimeError(f"DeviceMesh cannot have duplicate values, but found {arr.tolist()}")
        if mesh_dim_names is not None:
            mesh_dim_names = tuple(mesh_dim_names)
            if len(mesh_dim_names) != arr.ndim:
                raise RuntimeError(f"mesh_dim_names {mesh_dim_names} must have one name per mesh dim "
                                   f"({arr.ndim}, mesh shape {tuple(arr.shape)})")
            if len(set(mesh_dim_names)) != len(mesh_dim_names):
                raise RuntimeError(f"Each mesh_dim_name must be unique, got {mesh_dim_names}")
        self.device_type = str(device_type)
        self._arr = arr
        self.mesh_dim_names = mesh_dim_names
        self._groups = _groups if _groups is not None else self._make_groups()

    def _make_groups(self) -> list:
        """One group per dim: every process calls new_group for every slice along each dim (same order)."""
        groups = []
        for d in range(self._arr.ndim):
            moved = np.moveaxis(self._arr, d, -1).reshape(-1, self._arr.shape[d])
            mine = None
            for ranks in moved:
                g = _group.new_group([int(r) for r in ranks], sort_ranks=False)
                if isinstance(g, _group.ProcessGroup):
                    mine = g
            groups.append(mine)
        return groups

    @property
    def mesh(self):
        """The global ranks as an int32 tensor of the mesh's shape."""
        import jax.numpy as jnp

        from .._tensor import _wrap
        return _wrap(jnp.asarray(self._arr, jnp.int32))

    @property
    def ndim(self) -> int:
        """Number of mesh dims."""
        return self._arr.ndim

    @property
    def shape(self) -> tuple:
        """The mesh's shape."""
        return tuple(self._arr.shape)

    def size(self, mesh_dim=None) -> int:
        """Number of processes in the mesh, or along ``mesh_dim`` (an index or a name)."""
        return int(self._arr.size) if mesh_dim is None else int(self._arr.shape[self._dim(mesh_dim)])

    def get_rank(self) -> int:
        """This process's global rank."""
        return _group.get_rank()

    def get_coordinate(self):
        """This process's index in the mesh (a tuple), or None if it is not in the mesh."""
        at = np.argwhere(self._arr == _group.get_rank())
        return tuple(int(i) for i in at[0]) if len(at) else None

    def get_local_rank(self, mesh_dim=None) -> int:
        """This process's rank along ``mesh_dim`` (required when ``ndim > 1``)."""
        d = self._dim_required(mesh_dim, "get_local_rank")
        coord = self.get_coordinate()
        if coord is None:
            raise RuntimeError(f"get_local_rank(): global rank {_group.get_rank()} is not in {self!r}")
        return coord[d]

    def get_group(self, mesh_dim=None):
        """The :class:`ProcessGroup` of this process's slice along ``mesh_dim`` (needed if ``ndim > 1``)."""
        return self._groups[self._dim_required(mesh_dim, "get_group")]

    def get_all_groups(self) -> list:
        """The groups of every mesh dim, in dim order."""
        return list(self._groups)

    def _dim_required(self, mesh_dim, fname: str) -> int:
        if mesh_dim is None:
            if self.ndim > 1:
                raise RuntimeError(f"Found the DeviceMesh have {self.ndim} dimensions", "Optional kwarg "
                                   "`mesh_dim` needs to be specified when device_mesh.ndim > 1.",
                                   "If you want to get the list of all the ProcessGroups in the DeviceMesh,"
                                   "please use `get_all_groups()` instead.")
            return 0
        return self._dim(mesh_dim)

    def _dim(self, mesh_dim) -> int:
        if isinstance(mesh_dim, str):
            names = list(self.mesh_dim_names or ())
            if mesh_dim not in names:
                raise KeyError(f"Mesh dimension '{mesh_dim}' does not exist. Available mesh dimensions are: "
                               f"mesh_dim_names={self.mesh_dim_names}")
            return names.index(mesh_dim)
        if not isinstance(mesh_dim, int) or not -self.ndim <= mesh_dim < self.ndim:
            raise IndexError(f"mesh_dim {mesh_dim!r} is out of range for a {self.ndim}-d DeviceMesh")
        return mesh_dim % self.ndim

    def __getitem__(self, mesh_dim_names):
        """The sub-mesh over the named dims holding this process (``mesh["dp"]``, ``mesh[("dp", "tp")]``)."""
        if not self.mesh_dim_names:
            raise RuntimeError("Cannot slice a DeviceMesh without mesh_dim_names!")
        names = (mesh_dim_names,) if isinstance(mesh_dim_names, str) else tuple(mesh_dim_names)
        bad = [n for n in names if n not in self.mesh_dim_names]
        if bad or not names:
            raise KeyError(f"Invalid mesh_dim_names {names} specified. Valid mesh_dim_names are "
                           f"{list(self.mesh_dim_names)}.")
        dims = [self.mesh_dim_names.index(n) for n in names]
        coord = self.get_coordinate()
        if coord is None:
            raise RuntimeError(f"global rank {_group.get_rank()} is not in {self!r}")
        index = tuple(slice(None) if d in dims else coord[d] for d in range(self.ndim))
        sub = self._arr[index]  # the kept dims, in mesh order
        kept = sorted(dims)
        sub = np.transpose(sub, [kept.index(d) for d in dims])
        return DeviceMesh(self.device_type, sub, mesh_dim_names=names,
                          _groups=[self._groups[d] for d in dims])

    def __eq__(self, other) -> bool:
        return (isinstance(other, DeviceMesh) and self.device_type == other.device_type
                and self.mesh_dim_names == other.mesh_dim_names and np.array_equal(self._arr, other._arr))

    def __hash__(self) -> int:
        return hash((self.device_type, self.mesh_dim_names, self._arr.tobytes(), self._arr.shape))

    def __repr__(self) -> str:
        names = self.mesh_dim_names or tuple(f"dim{i}" for i in range(self.ndim))
        dims = ", ".join(f"{n}={s}" for n, s in zip(names, self.shape))
        return f"DeviceMesh(({dims}), {self.device_type!r}, mesh={self._arr.tolist()})"


def init_device_mesh(device_type: str, mesh_shape, *, mesh_dim_names=None,
                     backend_override=None) -> DeviceMesh:
    """A :class:`DeviceMesh` of shape ``mesh_shape`` over every process, ranks laid out row-major.

    Joins the default group first if needed (``init_process_group()`` from the launcher's environment).
    Every process must call it with the same arguments. The mesh must hold exactly ``get_world_size()``
    ranks.
    """
    if device_type is not None and ":" in str(device_type):
        raise RuntimeError(f"Device type with index is not supported but got {device_type}. If you "
                           "maintained a 'torch.device' object, it's recommended to pass in 'device.type'.")
    mesh_shape = tuple(int(s) for s in mesh_shape)
    if mesh_dim_names is not None and len(mesh_dim_names) != len(mesh_shape):
        raise RuntimeError("mesh_shape and mesh_dim_names should have same length!",
                           f"Found len(mesh_dim_names): {len(mesh_dim_names)} and len(mesh_shape):"
                           f"{len(mesh_shape)}.")
    if not _group.is_initialized():
        _group.init_process_group()
    world = _group.get_world_size()
    n = int(np.prod(mesh_shape))
    if n > world:
        raise RuntimeError(f"Mesh should not be bigger than default world size {world}, but found {n} ranks!")
    if n != world:
        raise RuntimeError(f"init_device_mesh(): the mesh {mesh_shape} holds {n} ranks; it must hold every "
                           f"one of the world size {world} (this DeviceMesh is a mesh of all processes)")
    return DeviceMesh(device_type, np.arange(n).reshape(mesh_shape), mesh_dim_names=mesh_dim_names)
