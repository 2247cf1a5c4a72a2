"""``BlockMask`` and the mask helpers of ``mt.nn.attention.flex_attention``.

A mask_mod ``mask_mod(b, h, q_idx, kv_idx) -> bool`` (True = attend) is evaluated once over the whole
``(B, H, Q_LEN, KV_LEN)`` grid by broadcasting: ``b`` is an int64 Tensor of shape ``(B, 1, 1, 1)``,
``h`` ``(1, H, 1, 1)``, ``q_idx`` ``(1, 1, Q, 1)``, ``kv_idx`` ``(1, 1, 1, KV)`` (torch vmaps over
scalars instead; any mask_mod written with elementwise tensor ops and tensor indexing, the way torch's
docs write them, works the same). Python ``if`` on the indices cannot work in either.
"""

from __future__ import annotations

import inspect
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..._tensor import Tensor, _wrap

__all__ = ["BlockMask", "create_block_mask", "create_mask", "and_masks", "or_masks", "noop_mask"]


def noop_mask(batch, head, token_q, token_kv):
    """A mask_mod that lets every query attend every key (returns True everywhere)."""
    return _true_like(token_q, token_kv)


def _true_like(a, b):
    shape = jnp.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    return _wrap(jnp.ones(shape, jnp.bool_))


def _num_positional(fn) -> int | None:
    """How many positional arguments ``fn`` requires (None when it takes ``*args``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    n = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            n += 1
    return n


def _mod_type(fn) -> str:
    """'mask' for a 4-argument mask_mod, 'score' for a 5-argument score_mod (torch's AssertionError else)."""
    n = _num_positional(fn)
    if n is None or n == 5:
        return "score" if n == 5 else "mask"
    if n == 4:
        return "mask"
    raise AssertionError(f"Expected 4 or 5 positional args, got {n}")


def _index_grids(B: int, H: int, Q: int, KV: int):
    """The broadcasting index Tensors ``b (B,1,1,1)``, ``h (1,H,1,1)``, ``q (1,1,Q,1)``, ``kv (1,1,1,KV)``."""
    def ar(n, axis):
        shape = [1, 1, 1, 1]
        shape[axis] = n
        return _wrap(jnp.arange(n, dtype=jnp.int64 if _x64() else jnp.int32).reshape(shape))

    return ar(B, 0), ar(H, 1), ar(Q, 2), ar(KV, 3)


def _x64() -> bool:
    return jnp.zeros((), jnp.int64).dtype == jnp.int64


def _as_array(x, shape, name):
    """The jax array of a mod's result, broadcast to ``shape``."""
    a = x._data if isinstance(x, Tensor) else jnp.asarray(x)
    try:
        return jnp.broadcast_to(a, shape)
    except ValueError:
        raise ValueError(
            f"{name} returned a result of shape {list(a.shape)}, which does not broadcast to the "
            f"attention scores' shape {list(shape)}"
        ) from None


def _dense_mask(mask_mod, B: int, H: int, Q: int, KV: int):
    """``mask_mod`` over the whole grid: a jax bool array ``(B, H, Q, KV)``."""
    b, h, q, kv = _index_grids(B, H, Q, KV)
    return _as_array(mask_mod(b, h, q, kv), (B, H, Q, KV), "mask_mod").astype(jnp.bool_)


def _fused(fn):
    """Run ``fn()`` (mt ops on constants and captured tensors, no gradients needed) as ONE compiled
    XLA program instead of one dispatch per op (also fine inside an outer ``mt.jit`` trace)."""
    from ..._grad_mode import no_grad

    def run():
        with no_grad():
            return fn()

    return jax.jit(run)()


def create_mask(mod_fn, B, H, Q_LEN, KV_LEN, device=None) -> Tensor:
    """The dense mask (or score modification) of ``mod_fn`` over a ``(B, H, Q_LEN, KV_LEN)`` grid.

    Args:
        mod_fn: a mask_mod ``(b, h, q_idx, kv_idx) -> bool`` or a score_mod
            ``(score, b, h, q_idx, kv_idx) -> score`` (evaluated on a zero score).
        B, H: batch and head sizes (None means 1, broadcast over).
        Q_LEN, KV_LEN: query and key/value lengths.
        device: accepted for torch compatibility (ignored).

    Returns:
        a bool Tensor ``(B, H, Q_LEN, KV_LEN)``: the mask_mod's value, or for a score_mod where the
        modified score is not ``-inf``.
    """
    B = 1 if B is None else int(B)
    H = 1 if H is None else int(H)
    Q_LEN, KV_LEN = int(Q_LEN), int(KV_LEN)
    if _mod_type(mod_fn) == "mask":
        return _wrap(_dense_mask(mod_fn, B, H, Q_LEN, KV_LEN))
    b, h, q, kv = _index_grids(B, H, Q_LEN, KV_LEN)
    zero = _wrap(jnp.zeros((B, H, Q_LEN, KV_LEN), jnp.float32))
    out = _as_array(mod_fn(zero, b, h, q, kv), (B, H, Q_LEN, KV_LEN), "score_mod")
    return _wrap(out != -jnp.inf)


def and_masks(*mask_mods):
    """A mask_mod that is the logical AND of ``mask_mods`` (all of them True; no mods: always True)."""
    for m in mask_mods:
        if not callable(m):
            raise RuntimeError("All inputs should be callable mask_mods")

    def and_mask(b, h, q_idx, kv_idx):
        res = _true_like(q_idx, kv_idx)
        for m in mask_mods:
            res = res & m(b, h, q_idx, kv_idx)
        return res

    return and_mask


def or_masks(*mask_mods):
    """A mask_mod that is the logical OR of ``mask_mods`` (any of them True; no mods: always False)."""
    for m in mask_mods:
        if not callable(m):
            raise RuntimeError("All inputs should be callable mask_mods")

    def or_mask(b, h, q_idx, kv_idx):
        res = ~_true_like(q_idx, kv_idx)
        for m in mask_mods:
            res = res | m(b, h, q_idx, kv_idx)
        return res

    return or_mask


# ----- block-level layout --------------------------------------------------------------------
def _host(*arrays):
    """numpy copies of ``arrays`` when all are concrete (the small block tables are handled on the host,
    which costs no XLA compilation), else None (inside a trace)."""
    try:
        return [np.asarray(a) for a in arrays]
    except jax.errors.TracerArrayConversionError:
        return None


def _ordered(dense):
    """A block matrix ``(..., rows, cols)`` (bool) as torch's ordered form ``(num, indices)``: per row,
    the number of set blocks and the column indices, set ones first (ascending), then the others."""
    if isinstance(dense, np.ndarray):
        return (np.sum(dense, axis=-1, dtype=np.int32),
                np.argsort(~dense, axis=-1, kind="stable").astype(np.int32))
    return (jnp.sum(dense, axis=-1, dtype=jnp.int32),
            jnp.argsort(~dense, axis=-1, stable=True).astype(jnp.int32))


def _from_ordered(num, idx, cols: int):
    """Inverse of :func:`_ordered`: a bool block matrix ``(..., rows, cols)`` (numpy when concrete)."""
    num, idx = num._data, idx._data
    host = _host(num, idx)
    xp = np if host is not None else jnp
    if host is not None:
        num, idx = host
    take = xp.arange(idx.shape[-1]) < num[..., None]
    hit = (idx[..., :, None] == xp.arange(cols)) & take[..., None]
    return xp.any(hit, axis=-2)


def _sliced_mask_mod(b, h, q_idx, kv_idx):
    raise RuntimeError(
        "Cannot use the mask_mod of a sliced BlockMask (its batch/head indices no longer match the "
        "original's); create a new block mask for the slice, or pass mask_mod explicitly."
    )


def _pair(bs):
    if isinstance(bs, int):
        return (bs, bs)
    bs = tuple(int(x) for x in bs)
    if len(bs) != 2:
        raise ValueError(f"BLOCK_SIZE must be an int or a pair of ints, got {bs}")
    return bs


class BlockMask:
    """The sparsity pattern of a flex_attention mask, kept block by block (torch's layout).

    ``kv_num_blocks (B, H, nQ)`` / ``kv_indices (B, H, nQ, nKV)`` list, for each block of
    ``BLOCK_SIZE[0]`` queries, the key blocks that are partially masked (the mask_mod is applied there);
    ``full_kv_*`` list the fully unmasked ones; ``q_*`` / ``full_q_*`` are the same seen from key blocks.
    Build one with :func:`create_block_mask` or :meth:`from_kv_blocks`.

    Here flex_attention computes dense masked attention, so the block structure only decides which
    entries take part; it is not used to skip work.
    """

    def __init__(self, seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices,
                 q_num_blocks, q_indices, full_q_num_blocks, full_q_indices, BLOCK_SIZE=(128, 128),
                 mask_mod=noop_mask, **_unused):
        if kv_indices.ndim < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        self.seq_lengths = (int(seq_lengths[0]), int(seq_lengths[1]))
        self.kv_num_blocks, self.kv_indices = kv_num_blocks, kv_indices
        self.full_kv_num_blocks, self.full_kv_indices = full_kv_num_blocks, full_kv_indices
        self.q_num_blocks, self.q_indices = q_num_blocks, q_indices
        self.full_q_num_blocks, self.full_q_indices = full_q_num_blocks, full_q_indices
        self.BLOCK_SIZE = _pair(BLOCK_SIZE)
        self.mask_mod = noop_mask if mask_mod is None else mask_mod

    @classmethod
    def from_kv_blocks(cls, kv_num_blocks, kv_indices, full_kv_num_blocks=None, full_kv_indices=None,
                       BLOCK_SIZE=128, mask_mod=None, seq_lengths=None, compute_q_blocks=True, **_unused):
        """A BlockMask from its key-block lists (the query-block lists are derived by transposing).

        Args:
            kv_num_blocks: ``(B, H, nQ)`` int, partial blocks per query block.
            kv_indices: ``(B, H, nQ, nKV)`` int, their key-block indices (first ``kv_num_blocks``).
            full_kv_num_blocks, full_kv_indices: the same for fully unmasked blocks (optional).
            BLOCK_SIZE: int or ``(Q_BLOCK, KV_BLOCK)``.
            mask_mod: applied inside partial blocks (default: none).
            seq_lengths: ``(Q_LEN, KV_LEN)`` (default: the block counts times BLOCK_SIZE).
            compute_q_blocks: derive ``q_*`` lists (always done here).
        """
        if kv_indices.ndim < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise ValueError("full_kv_num_blocks and full_kv_indices must be both provided or omitted")
        bq, bkv = _pair(BLOCK_SIZE)
        nq, nkv = kv_indices.shape[-2], kv_indices.shape[-1]
        if seq_lengths is None:
            seq_lengths = (nq * bq, nkv * bkv)
        part = _from_ordered(kv_num_blocks, kv_indices, nkv)
        q_num, q_idx = (_wrap(jnp.asarray(a)) for a in _ordered(part.swapaxes(-1, -2)))
        fq_num = fq_idx = None
        if full_kv_num_blocks is not None:
            full = _from_ordered(full_kv_num_blocks, full_kv_indices, nkv)
            fq_num, fq_idx = (_wrap(jnp.asarray(a)) for a in _ordered(full.swapaxes(-1, -2)))
        return cls(seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices,
                   q_num, q_idx, fq_num, fq_idx, (bq, bkv), mask_mod)

    # -- torch's public surface --
    @property
    def shape(self) -> tuple:
        """``(B, H, Q_LEN, KV_LEN)``."""
        return (*tuple(self.kv_indices.shape[:-2]), *self.seq_lengths)

    def numel(self) -> int:
        """Number of entries of the (dense) mask: ``prod(shape)``."""
        return math.prod(self.shape)

    def _blocks(self):
        """``(partial, full)`` bool block matrices ``(B, H, nQ, nKV)`` (full all False when absent)."""
        nkv = self.kv_indices.shape[-1]
        part = _from_ordered(self.kv_num_blocks, self.kv_indices, nkv)
        if self.full_kv_num_blocks is None:
            return part, part & False
        return part, _from_ordered(self.full_kv_num_blocks, self.full_kv_indices, nkv)

    def to_dense(self) -> Tensor:
        """The block matrix ``(B, H, nQ, nKV)`` as int32: 1 where a block is computed (partial or full)."""
        part, full = self._blocks()
        return _wrap(jnp.asarray((part | full).astype(np.int32)))

    def sparsity(self) -> float:
        """Percentage of the mask's area skipped (negative when padding to whole blocks adds area)."""
        part, full = self._blocks()
        computed = int((part | full).sum()) * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1]
        return 100.0 * (1.0 - computed / self.numel())

    def to(self, device):
        """Move to ``device`` (a no-op: the arrays live where JAX put them); returns self."""
        return self

    def as_tuple(self, flatten: bool = True) -> tuple:
        """The mask's fields as a tuple (lengths, the eight block tensors, BLOCK_SIZE, mask_mod)."""
        bs = self.BLOCK_SIZE if not flatten else tuple(self.BLOCK_SIZE)
        return (*self.seq_lengths, self.kv_num_blocks, self.kv_indices, self.full_kv_num_blocks,
                self.full_kv_indices, self.q_num_blocks, self.q_indices, self.full_q_num_blocks,
                self.full_q_indices, *bs, self.mask_mod)

    def _adjust(self, new_q_len: int, new_kv_len: int) -> BlockMask:
        """This mask cropped (from the upper left) to ``new_q_len`` queries and ``new_kv_len`` keys."""
        part, full = self._blocks()
        nq = -(-int(new_q_len) // self.BLOCK_SIZE[0])
        nkv = -(-int(new_kv_len) // self.BLOCK_SIZE[1])
        return _from_blocks(part[..., :nq, :nkv], full[..., :nq, :nkv], (new_q_len, new_kv_len),
                            self.BLOCK_SIZE, self.mask_mod)

    def __getitem__(self, index) -> BlockMask:
        """Select batches / heads (``bm[b]``, ``bm[b, h]``, ``bm[:, h]``); integer indices keep their
        dimension (size 1), as torch. The slice's mask_mod raises when called (indices would be off)."""
        if not isinstance(index, tuple):
            index = (index,)
        if len(index) > 2:
            raise IndexError(f"BlockMask can be indexed on batch and head only, got {len(index)} indices")
        B, H = self.shape[:2]
        idx = []
        for i, n in zip(index, (B, H)):
            if isinstance(i, int):
                if not -n <= i < n:
                    raise IndexError(f"index {i} is out of bounds for dimension with size {n}")
                i = slice(i % n, i % n + 1)
            elif not isinstance(i, slice):
                raise IndexError(f"BlockMask indices must be ints or slices, got {type(i).__name__}")
            idx.append(i)
        idx = tuple(idx)

        def pick(t):
            return None if t is None else t[idx]

        return BlockMask(self.seq_lengths, *(pick(t) for t in self.as_tuple()[2:10]), self.BLOCK_SIZE,
                         _sliced_mask_mod)

    def to_string(self, grid_size=(20, 20), limit: int = 4) -> str:
        """A text picture of the computed blocks (``██``) of the first ``limit`` (batch, head) pairs."""
        if isinstance(grid_size, int):
            grid_size = (grid_size, grid_size)
        dense = self.to_dense()._data
        B, H = dense.shape[0], dense.shape[1]
        lines = []
        shown = 0
        for b in range(B):
            for h in range(H):
                if shown >= limit:
                    lines += ["...", "To print out more, set BlockMask.to_string(limit=N)"]
                    return "\n".join(lines) + "\n"
                lines.append(f"({b}, {h})")
                grid = dense[b, h, : grid_size[0], : grid_size[1]]
                for row in grid.tolist():
                    lines.append("".join("██" if x else "  " for x in row))
                lines.append("")
                shown += 1
        return "\n".join(lines)

    def __repr__(self) -> str:
        name = getattr(self.mask_mod, "__name__", repr(self.mask_mod))
        fields = [f"{n}={getattr(self, n).shape}" for n in (
            "kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices", "q_num_blocks",
            "q_indices", "full_q_num_blocks", "full_q_indices") if getattr(self, n) is not None]
        fields += [f"BLOCK_SIZE={self.BLOCK_SIZE}", f"shape={self.shape}",
                   f"sparsity={self.sparsity():.2f}%", f"mask_mod={name}"]
        return "BlockMask(\n" + "".join(f"    {f},\n" for f in fields[:-1]) + f"    {fields[-1]}\n)"

    def _element_mask(self, B: int, H: int):
        """The effective ``(B, H, Q_LEN, KV_LEN)`` bool mask for queries with batch B and H heads:
        full blocks, plus the mask_mod inside partial blocks (evaluated with the real b/h indices)."""
        Q, KV = self.seq_lengths
        bq, bkv = self.BLOCK_SIZE

        part, full = self._blocks()
        xp = np if isinstance(part, np.ndarray) else jnp
        part = xp.repeat(xp.repeat(part, bq, axis=-2), bkv, axis=-1)[..., :Q, :KV]
        full = xp.repeat(xp.repeat(full, bq, axis=-2), bkv, axis=-1)[..., :Q, :KV]
        shape = (B, H, Q, KV)
        inside = _dense_mask(self.mask_mod, B, H, Q, KV)
        full, part = jnp.broadcast_to(jnp.asarray(full), shape), jnp.broadcast_to(jnp.asarray(part), shape)
        return full | (part & inside)


def _layout_arrays(part, full):
    """The eight ordered block arrays (kv partial, kv full, q partial, q full) of two block matrices."""
    res = []
    for d in (part, full, part.swapaxes(-1, -2), full.swapaxes(-1, -2)):
        res += _ordered(d)
    return tuple(res)


def _from_blocks(part, full, seq_lengths, block_size, mask_mod) -> BlockMask:
    arrays = _layout_arrays(part, full)
    return BlockMask(seq_lengths, *(_wrap(jnp.asarray(a)) for a in arrays), block_size, mask_mod)


def create_block_mask(mask_mod, B, H, Q_LEN, KV_LEN, device=None, BLOCK_SIZE=128, _compile=False,
                      separate_full_blocks=True, compute_dq_write_order=False, dq_kv_order=True) -> BlockMask:
    """Build a :class:`BlockMask` from a mask_mod ``(b, h, q_idx, kv_idx) -> bool`` (True = attend).

    Args:
        mask_mod: the mask function (indices arrive as broadcasting int Tensors, see the module doc).
        B, H: batch and head sizes (None: 1, broadcast over every batch/head; the mask_mod then sees
            ``b = 0`` / ``h = 0`` here, and the real indices inside flex_attention).
        Q_LEN, KV_LEN: query and key/value lengths (need not be multiples of BLOCK_SIZE).
        device: ignored (torch compatibility).
        BLOCK_SIZE: int or ``(Q_BLOCK, KV_BLOCK)``.
        _compile, compute_dq_write_order, dq_kv_order: accepted, no effect.
        separate_full_blocks: keep fully unmasked blocks apart (else every block is partial).
    """
    if _mod_type(mask_mod) != "mask":
        raise AssertionError("create-block_mask requires a mask_mod function! Got a score_mod instead.")
    B = 1 if B is None else int(B)
    H = 1 if H is None else int(H)
    Q_LEN, KV_LEN = int(Q_LEN), int(KV_LEN)
    bq, bkv = _pair(BLOCK_SIZE)
    nq, nkv = -(-Q_LEN // bq), -(-KV_LEN // bkv)

    m = _dense_mask(mask_mod, B, H, Q_LEN, KV_LEN)
    host = _host(m)
    xp = np if host is not None else jnp
    if host is not None:
        m = host[0]
    m = xp.pad(m, ((0, 0), (0, 0), (0, nq * bq - Q_LEN), (0, nkv * bkv - KV_LEN)))
    blocks = m.reshape(B, H, nq, bq, nkv, bkv)
    anyb = blocks.any(axis=(3, 5))
    full = blocks.all(axis=(3, 5))
    if not separate_full_blocks:
        full = full & False
    return _from_blocks(anyb & ~full, full, (Q_LEN, KV_LEN), (bq, bkv), mask_mod)
