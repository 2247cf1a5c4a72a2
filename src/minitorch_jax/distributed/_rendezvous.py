"""torch.distributed's rendezvous: a URL (``tcp://``, ``file://``, ``env://``, or a registered scheme)
turned into ``(store, rank, world_size)``."""

from __future__ import annotations

import datetime
import os
from urllib.parse import parse_qs, urlparse

from ._store import FileStore, TCPStore

__all__ = ["rendezvous", "register_rendezvous_handler"]

_HANDLERS: dict = {}
_DEFAULT_TIMEOUT = datetime.timedelta(seconds=300)


def register_rendezvous_handler(scheme: str, handler) -> None:
    """Register ``handler(url, **kwargs)`` for URLs ``scheme://...``: an iterator yielding
    ``(store, rank, world_size)`` (``rendezvous`` takes its first item)."""
    if scheme in _HANDLERS:
        raise RuntimeError(f"Rendezvous handler for {scheme}:// already registered")
    _HANDLERS[scheme] = handler


def rendezvous(url: str, rank: int = -1, world_size: int = -1, **kwargs):
    """An iterator over ``(store, rank, world_size)`` for ``url``; ``rank``/``world_size`` (when not -1)
    go into the URL's query, as torch does.

    Schemes: ``tcp://host:port?rank=R&world_size=N`` (a ``TCPStore``, rank 0 its master),
    ``file:///path?rank=R&world_size=N`` (a ``FileStore``), ``env://`` (MASTER_ADDR, MASTER_PORT, RANK,
    WORLD_SIZE; a ``TCPStore``), and any registered with :func:`register_rendezvous_handler`.
    """
    if not isinstance(url, str):
        raise RuntimeError(f"`url` must be a string. {type(url)}: {url}")
    if not isinstance(rank, int) or not isinstance(world_size, int):
        raise RuntimeError(f"`rank` and `world_size` must be integers: {rank!r}, {world_size!r}")
    parsed = urlparse(url)
    if rank != -1 or world_size != -1:
        query = dict(parse_qs(parsed.query))
        if rank != -1:
            query["rank"] = [str(rank)]
        if world_size != -1:
            query["world_size"] = [str(world_size)]
        url = parsed._replace(query="&".join(f"{k}={v[0]}" for k, v in query.items())).geturl()
    if parsed.scheme not in _HANDLERS:
        raise RuntimeError(f"No rendezvous handler for {parsed.scheme}://")
    return _HANDLERS[parsed.scheme](url, **kwargs)


def _params(url: str, scheme: str) -> tuple:
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    for name in ("rank", "world_size"):
        if name not in query:
            raise ValueError(f"Error initializing torch.distributed using {scheme}:// rendezvous: {name} "
                             "parameter missing")
    return parsed, int(query["rank"]), int(query["world_size"])


def _again(scheme):
    word = "rerendezvous" if scheme == "file" else "re-rendezvous"  # (torch's wording, per scheme)
    return RuntimeError(f"Unable to perform {word} using {scheme}:// method")


# (generators, as torch's: a bad URL raises at the first next())
def _tcp_handler(url, timeout=_DEFAULT_TIMEOUT, **kwargs):
    parsed, rank, world_size = _params(url, "tcp")
    if parsed.port is None:
        raise ValueError(f"Error initializing torch.distributed using tcp:// rendezvous: port number missing "
                         f"in {url!r}")
    yield TCPStore(parsed.hostname, parsed.port, world_size, rank == 0, timeout), rank, world_size
    raise _again("tcp")


def _file_handler(url, **kwargs):
    parsed, rank, world_size = _params(url, "file")
    path = parsed.path or parsed.netloc
    if not path:
        raise ValueError("Error initializing torch.distributed using file:// rendezvous: path missing")
    yield FileStore(path, world_size), rank, world_size
    raise _again("file")


def _env_handler(url, timeout=_DEFAULT_TIMEOUT, **kwargs):
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}

    def need(name, key=None):
        value = query.get(key) if key else None
        if value is None:
            value = os.environ.get(name)
        if value is None:
            raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: environment "
                             f"variable {name} expected, but not set")
        return value
    rank = int(need("RANK", "rank"))
    world_size = int(need("WORLD_SIZE", "world_size"))
    store = TCPStore(need("MASTER_ADDR"), int(need("MASTER_PORT")), world_size, rank == 0, timeout)
    yield store, rank, world_size
    raise _again("env")


register_rendezvous_handler("tcp", _tcp_handler)
register_rendezvous_handler("file", _file_handler)
register_rendezvous_handler("env", _env_handler)
