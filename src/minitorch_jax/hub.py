"""``mt.hub``: torch.hub's entry points for ``hubconf.py`` model repositories.

minitorch_jax does not download anything: ``source='local'`` (a directory holding a ``hubconf.py``) works
as in torch, and so does ``load_state_dict_from_url`` when the file is already in the hub cache
(``<get_dir()>/checkpoints/<file name>``) and ``download_url_to_file`` for ``file://`` URLs. Anything that
would need the network (GitHub repositories, http(s) URLs not cached) raises a RuntimeError saying so:
download the file or clone the repository yourself and point these functions at the local copy.
``list``/``help`` also accept a local directory in place of ``github``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import sys
from urllib.parse import urlparse

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url", "set_dir"]

VAR_DEPENDENCY = "dependencies"
MODULE_HUBCONF = "hubconf.py"
_HUB_DIR: list = [None]


def _no_network(what: str):
    raise RuntimeError(f"mt.hub.{what}: minitorch_jax does not download anything (no network access is "
                       f"used); download the file or clone the repository yourself and use "
                       f"source='local' / a local path instead.")


def get_dir() -> str:
    """The hub cache directory: set by :func:`set_dir`, else ``$TORCH_HOME/hub``, else
    ``$XDG_CACHE_HOME/torch/hub``, else ``~/.cache/torch/hub`` (as torch)."""
    if _HUB_DIR[0] is not None:
        return _HUB_DIR[0]
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "torch")
    return os.path.join(os.path.expanduser(home), "hub")


def set_dir(d) -> None:
    """Set the hub cache directory used by :func:`get_dir`."""
    _HUB_DIR[0] = os.path.expanduser(os.fspath(d))


@contextlib.contextmanager
def _on_path(path: str):
    sys.path.insert(0, path)
    try:
        yield
    finally:
        sys.path.remove(path)


def _hubconf(repo_dir: str):
    path = os.path.join(repo_dir, MODULE_HUBCONF)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{path}'")
    with _on_path(repo_dir):
        spec = importlib.util.spec_from_file_location("hubconf", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    missing = [p for p in getattr(mod, VAR_DEPENDENCY, None) or () if importlib.util.find_spec(p) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    return mod


def _repo(repo_or_dir: str, source: str, what: str):
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "local" or os.path.isdir(os.fspath(repo_or_dir)):
        return _hubconf(os.fspath(repo_or_dir))
    _no_network(what)


def _entry(mod, model):
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    fn = getattr(mod, model, None)
    if fn is None or not callable(fn):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return fn


def list(github, force_reload: bool = False, skip_validation: bool = False, trust_repo="check",
         verbose: bool = True):
    """Names of the entry points (public callables) in the repository's ``hubconf.py``.

    Args:
        github: a local directory holding ``hubconf.py`` ('owner/repo[:ref]' needs the network: raises).
    """
    mod = _repo(github, "github", "list")
    return [n for n in dir(mod) if callable(getattr(mod, n)) and not n.startswith("_")]


def help(github, model, force_reload: bool = False, skip_validation: bool = False, trust_repo="check"):
    """The docstring of entry point ``model`` (a local directory in place of ``github``, see :func:`list`)."""
    return _entry(_repo(github, "github", "help"), model).__doc__


def load(repo_or_dir, model, *args, source: str = "github", trust_repo="check", force_reload: bool = False,
         verbose: bool = True, skip_validation: bool = False, **kwargs):
    """Call entry point ``model`` of a ``hubconf.py`` with ``*args, **kwargs`` and return its result.

    Args:
        repo_or_dir: with ``source='local'``, a directory holding ``hubconf.py``; GitHub repositories
            ('owner/repo[:ref]') need the network and raise.
        model: the entry point's name.
        source: ``'github'`` or ``'local'``.
    """
    return _entry(_repo(repo_or_dir, source, "load"), model)(*args, **kwargs)


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
    """Copy the object at ``url`` to ``dst``: only ``file://`` URLs (no network access), checking
    that the SHA-256 of the file starts with ``hash_prefix`` when given."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        _no_network("download_url_to_file")
    shutil.copyfile(parsed.path, dst)
    if hash_prefix is not None:
        with open(dst, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if not digest.startswith(hash_prefix):
            os.remove(dst)
            raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location=None, progress: bool = True,
                             check_hash: bool = False, file_name: str | None = None,
                             weights_only: bool = False):
    """Load a checkpoint named by ``url`` from the hub cache (``<get_dir()>/checkpoints``) with ``mt.load``.

    The file must already be there (or ``url`` be a ``file://`` URL, copied in first): nothing is
    downloaded.
    """
    from .serialization import load as _load
    model_dir = os.path.join(get_dir(), "checkpoints") if model_dir is None else model_dir
    os.makedirs(model_dir, exist_ok=True)
    name = file_name or os.path.basename(urlparse(url).path)
    cached = os.path.join(model_dir, name)
    if not os.path.exists(cached):
        if urlparse(url).scheme != "file":
            raise RuntimeError(f"mt.hub.load_state_dict_from_url: {cached} is not in the hub cache and "
                               f"minitorch_jax does not download anything; download {url} to that path "
                               f"yourself.")
        download_url_to_file(url, cached, None, progress)
    return _load(cached, map_location=map_location, weights_only=weights_only)
