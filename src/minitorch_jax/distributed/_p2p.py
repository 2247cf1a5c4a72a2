"""Point-to-point communication (torch.distributed's ``send``/``recv`` family) on JAX collectives.

JAX has no host point-to-point transfer, so a message from rank A to rank B is a **broadcast from A over
the two-process sub-mesh {A, B}** (one small XLA collective among those two processes only; the other
processes take no part). Its cost is that of a 2-process broadcast of the tensor. Consequences:

* ``send`` and ``recv`` are a rendezvous: both sides block until the transfer is done, and the sides
  must post their messages in the same order. Two ranks that both ``send`` first and ``recv`` second
  would each wait for the other's ``recv``: use :func:`batch_isend_irecv` for exchanges, which orders
  its messages so that every pair of ranks agrees (first the lower rank's messages to the higher one,
  then the other way, pairs in ascending order).
* ``recv`` needs ``src`` (receiving from any rank, ``src=None``, is not possible), and the receiving
  tensor must have the shape and dtype of the sent one (as in torch).
* ``isend``/``irecv`` complete before returning (their :class:`Work` is already done).

Objects (``send_object_list``/``recv_object_list``) are pickled: a message of the byte counts, then one
of the bytes. Only eager calls are supported (inside ``mt.jit`` the host path goes through
``jax.pure_callback``, which may reorder calls; no test covers it).
"""

from __future__ import annotations

import pickle

import jax.numpy as jnp
import numpy as np

from .._tensor import Tensor
from . import _collectives as C
from . import _group

__all__ = ["send", "recv", "isend", "irecv", "P2POp", "batch_isend_irecv", "send_object_list",
           "recv_object_list"]

_PAIRS: dict = {}


def _pair(a: int, b: int):
    """The group over which a message between global ranks ``a`` and ``b`` travels (None: the world)."""
    key = (min(a, b), max(a, b))
    if key == tuple(range(_group._STATE["world"])):
        return None
    g = _PAIRS.get(key)
    if g is None:
        g = _PAIRS[key] = _group.ProcessGroup(key, "p2p" + "_".join(map(str, key)))
    return g


def _peer(fname: str, what: str, group, global_rank, group_rank):
    """The peer's global rank, or None when this process is outside ``group`` (torch warns, returns -1)."""
    g = C._resolve(group, fname)
    if g is C._NON:
        return None
    if global_rank is None and group_rank is None:
        raise ValueError(f"{fname}(): pass {what} (a global rank) or group_{what} (a rank in the group)"
                         + ("; receiving from any rank (src=None) is not supported: JAX has no host "
                            "point-to-point, each message is a collective between its two ranks"
                            if what == "src" else ""))
    _, peer = C._peer(g, fname, what, global_rank, group_rank)
    if peer == _group._STATE["rank"]:
        if what == "dst":
            raise ValueError("Invalid destination rank: destination rank should not be the same as the rank "
                             "of the current process.")
        raise ValueError("Invalid source rank: source rank should not be the same as the rank of the "
                         "current process.")
    return peer


def _transfer(arr, sender: int, receiver: int):
    """Move ``arr`` from global rank ``sender`` to ``receiver`` (both call it; the receiver passes an array
    of the same shape and dtype). Returns the received array."""
    g = _pair(sender, receiver)
    src = sender if g is None else g.ranks.index(sender)
    return C.run("bcast", None, arr, src, group=g)


def send(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0,
         group_dst: int | None = None) -> None:
    """Send ``tensor`` to process ``dst`` (a global rank; or ``group_dst``, a rank in ``group``).

    Blocks until ``dst`` has received it with a matching :func:`recv` (see the module docstring).
    ``tag`` is accepted but not used for matching: messages match in posting order.
    """
    C._check(tensor, "send")
    peer = _peer("send", "dst", group, dst, group_dst)
    if peer is not None:
        _transfer(tensor._data, _group._STATE["rank"], peer)


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0,
         group_src: int | None = None) -> int:
    """Receive into ``tensor`` (in place; same shape and dtype as the sent one) from process ``src``.

    Returns:
        The sender's global rank (-1 on a process outside ``group``).
    """
    C._check(tensor, "recv")
    peer = _peer("recv", "src", group, src, group_src)
    if peer is None:
        return -1
    C._set(tensor, _transfer(tensor._data, peer, _group._STATE["rank"]))
    return peer


def isend(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0, group_dst: int | None = None):
    """:func:`send`, returning a :class:`Work` (already complete: the transfer happens in the call)."""
    send(tensor, dst, group, tag, group_dst)
    return C.Work()


def irecv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0, group_src: int | None = None):
    """:func:`recv`, returning a :class:`Work` (already complete)."""
    recv(tensor, src, group, tag, group_src)
    return C.Work()


class P2POp:
    """One point-to-point operation for :func:`batch_isend_irecv`.

    Args:
        op: ``isend`` or ``irecv`` (this module's, or ``send``/``recv``).
        tensor: the tensor to send, or to receive into.
        peer: the other process's global rank (or ``group_peer``, its rank in ``group``).
        group, tag: as for :func:`isend`.
    """

    def __init__(self, op, tensor: Tensor, peer: int | None = None, group=None, tag: int = 0,
                 group_peer: int | None = None):
        if op not in (isend, irecv, send, recv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or "
                             "``torch.distributed.irecv``.")
        C._check(tensor, "P2POp")
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = (
            op, tensor, peer, group, tag, group_peer)

    def __repr__(self) -> str:
        return f"P2POp({self.op.__name__}, peer={self.peer}, group_peer={self.group_peer}, tag={self.tag})"


def batch_isend_irecv(p2p_op_list: list) -> list:
    """Run a list of :class:`P2POp` sends and receives, returning one completed :class:`Work` each.

    The messages are reordered so that every pair of ranks posts them alike: pairs in ascending
    ``(lower rank, higher rank)`` order; within a pair, the lower rank's messages first, each direction in
    the list's order. So exchanges (both ranks send and receive) do not deadlock.
    """
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("batch_isend_irecv(): expected a non-empty list of P2POp, got "
                         f"{p2p_op_list!r}")
    me = _group._STATE["rank"]
    plan = []
    for i, p in enumerate(p2p_op_list):
        sending = p.op in (isend, send)
        what = "dst" if sending else "src"
        peer = _peer("batch_isend_irecv", what, p.group, p.peer, p.group_peer)
        if peer is None:
            continue
        sender = me if sending else peer
        lo, hi = min(me, peer), max(me, peer)
        plan.append(((lo, hi), 0 if sender == lo else 1, i, p, sending, peer))
    for _, _, _, p, sending, peer in sorted(plan, key=lambda e: e[:3]):
        if sending:
            _transfer(p.tensor._data, me, peer)
        else:
            C._set(p.tensor, _transfer(p.tensor._data, peer, me))
    return [C.Work() for _ in p2p_op_list]


def send_object_list(object_list: list, dst: int | None = None, group=None, device=None,
                     group_dst: int | None = None, use_batch: bool = False) -> None:
    """Send the picklable objects of ``object_list`` to process ``dst`` (a matching
    :func:`recv_object_list` there receives them into a list of the same length)."""
    peer = _peer("send_object_list", "dst", group, dst, group_dst)
    if peer is None:
        return
    me = _group._STATE["rank"]
    blobs = [np.frombuffer(pickle.dumps(o), dtype=np.uint8) for o in object_list]
    _transfer(jnp.asarray([b.size for b in blobs], jnp.int32), me, peer)
    if blobs and sum(b.size for b in blobs):
        _transfer(jnp.asarray(np.concatenate(blobs)), me, peer)


def recv_object_list(object_list: list, src: int | None = None, group=None, device=None,
                     group_src: int | None = None, use_batch: bool = False) -> int:
    """Receive objects sent by :func:`send_object_list` from process ``src`` into ``object_list`` (in place;
    it must have as many entries as were sent).

    Returns:
        The sender's global rank (-1 on a process outside ``group``).
    """
    peer = _peer("recv_object_list", "src", group, src, group_src)
    if peer is None:
        return -1
    me = _group._STATE["rank"]
    sizes = np.asarray(_transfer(jnp.zeros((len(object_list),), jnp.int32), peer, me))
    total = int(sizes.sum())
    data = np.asarray(_transfer(jnp.zeros((total,), jnp.uint8), peer, me)) if total else np.zeros(0, np.uint8)
    off = 0
    for i, n in enumerate(sizes):
        object_list[i] = pickle.loads(data[off:off + int(n)].tobytes())
        off += int(n)
    return peer
