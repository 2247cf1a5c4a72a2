"""Runs the benchmark workloads: minitorch_jax eager, ``mt.jit``, and optionally hand-written JAX+optax
(``jax.jit``) and PyTorch eager, synchronising the device before every clock read."""

from __future__ import annotations

import statistics
import sys
import time
import warnings

import jax
import numpy as np

from .workloads import WORKLOADS, Workload, make_step

__all__ = ["BenchError", "select_device", "summarize", "run_workload", "Progress", "DTYPES"]

DTYPES = ("float32", "bfloat16", "float64")
DEVICE_ALIASES = {"cpu": "cpu", "cuda": "gpu", "gpu": "gpu", "tpu": "tpu"}
MAX_COMPILE_CALLS = 5


class BenchError(RuntimeError):
    """A user error in the benchmark's settings (unknown workload, absent device ...)."""


def select_device(name: str):
    """The first JAX device of platform ``name`` (cpu, cuda, gpu or tpu); BenchError listing the
    available devices when there is none."""
    platform = DEVICE_ALIASES.get(name.lower().split(":")[0])
    index = int(name.split(":")[1]) if ":" in name and name.split(":")[1].isdigit() else 0
    have = ", ".join(f"{d.platform}:{d.id}" for d in jax.devices())
    if platform is None:
        raise BenchError(f"unknown device {name!r}: choose one of cpu, cuda, gpu, tpu "
                         f"(available here: {have})")
    try:
        devs = jax.devices(platform)
    except RuntimeError:
        devs = []
    if index >= len(devs):
        raise BenchError(f"device {name!r} is not available; available devices: {have}")
    return devs[index]


def summarize(times) -> dict:
    """Median, IQR, mean and min of per-step times given in seconds, reported in milliseconds."""
    ms = np.asarray(times, dtype=np.float64) * 1e3
    q1, q3 = np.percentile(ms, [25, 75]) if len(ms) else (float("nan"), float("nan"))
    return {"median_ms": float(statistics.median(ms)) if len(ms) else float("nan"), "iqr_ms": float(q3 - q1),
            "mean_ms": float(ms.mean()) if len(ms) else float("nan"),
            "min_ms": float(ms.min()) if len(ms) else float("nan"), "steps": len(ms),
            "times_ms": [round(float(t), 4) for t in ms]}


class Progress:
    """A tiny progress bar on stderr; silent when disabled or when stderr is not a terminal."""

    def __init__(self, label: str, total: int, enabled: bool = True, stream=None, width: int = 24):
        self.stream = stream or sys.stderr
        self.enabled = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.label, self.total, self.width, self.done, self.phase = label, max(1, total), width, 0, ""

    def advance(self, phase: str, n: int = 1) -> None:
        """Count ``n`` calls done in ``phase`` and redraw."""
        self.done, self.phase = min(self.total, self.done + n), phase
        if self.enabled:
            fill = int(self.width * self.done / self.total)
            bar = "#" * fill + "." * (self.width - fill)
            self.stream.write(f"\r{self.label:12s} [{bar}] {self.done:4d}/{self.total} {phase:12s}")
            self.stream.flush()

    def close(self) -> None:
        """Erase the bar's line."""
        if self.enabled:
            self.stream.write("\r" + " " * (self.width + 50) + "\r")
            self.stream.flush()


def _arrays(obj):
    from .._tensor import Tensor
    if isinstance(obj, Tensor):
        return [obj._data]
    if isinstance(obj, (list, tuple)):
        return [a for o in obj for a in _arrays(o)]
    return [obj]


def _timed(call, sync, n, progress, phase):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        sync(call())
        times.append(time.perf_counter() - t0)
        progress.advance(phase)
    return times


# ----- the four implementations -------------------------------------------------------------------
def _mt_setup(w: Workload, dtype: str, x, y, jit: bool):
    import minitorch_jax as mt
    dt = getattr(mt, dtype)
    mt.manual_seed(0)
    model = w.build(mt).to(dt)
    opt = mt.optim.Adam(model.parameters(), lr=1e-3)
    step = make_step(mt, model, opt, w.loss)
    fn = mt.jit(step) if jit else step
    xt = mt.tensor(x).to(dt)
    yt = mt.tensor(y).to(dt) if y.dtype.kind == "f" else mt.tensor(y)
    state = list(model.parameters()) + list(model.buffers())
    # place model and data on the selected device explicitly (committed arrays), as later steps'
    # results are: otherwise every eager kernel compiles once more when its inputs become committed
    device = jax.config.jax_default_device or jax.devices()[0]
    for t in state + [xt, yt]:
        t._data = jax.device_put(t._data, device)
    mt.default_generator._key = jax.device_put(mt.default_generator._key, device)  # (dropout's key, too)

    def sync(out):
        jax.block_until_ready(_arrays(out) + [t._data for t in state])

    return fn, (lambda: fn(xt, yt)), sync, model


def _jax_setup(w: Workload, dtype: str, x, y, model):
    import jax.numpy as jnp
    import optax
    jdt = jnp.dtype(dtype)
    named = dict(model.named_parameters())
    params = {k: jnp.asarray(np.asarray(v.detach().float().numpy()), jdt) for k, v in named.items()}
    bufs = dict(model.named_buffers())
    buffers = {k: jnp.asarray(np.asarray(bufs[k].detach().float().numpy()), jdt) for k in w.jax_buffers}
    tx = optax.adam(1e-3)
    xj = jnp.asarray(x, jdt)
    yj = jnp.asarray(y, jdt) if y.dtype.kind == "f" else jnp.asarray(y)
    n_red = x.size // x.shape[1] if x.ndim == 4 else 1

    def loss_fn(p, key):
        out = w.jax_forward(p, xj, key)
        stats = {}
        if isinstance(out, tuple):
            out, stats = out
        if w.loss == "mse_loss":
            loss = jnp.mean((out - yj) ** 2)
        else:
            loss = optax.softmax_cross_entropy_with_integer_labels(out, yj).mean()
        return loss, stats

    def update(p, s, b, key):
        key, sub = jax.random.split(key)
        (loss, stats), g = jax.value_and_grad(loss_fn, has_aux=True)(p, sub)
        upd, s = tx.update(g, s, p)
        new_b = {}
        for k, v in b.items():  # BatchNorm running statistics, as torch updates them (unbiased var)
            st = jax.lax.stop_gradient(stats[k])
            if k.endswith("running_var"):
                st = st * (n_red / max(1, n_red - 1))
            new_b[k] = 0.9 * v + 0.1 * st
        return optax.apply_updates(p, upd), s, new_b, key, loss

    step = jax.jit(update, donate_argnums=(0, 1, 2, 3))
    st = [params, tx.init(params), buffers, jax.random.key(0)]

    def call():
        st[0], st[1], st[2], st[3], loss = step(*st)
        return loss

    def sync(out):
        jax.block_until_ready((out, st[0]))

    return call, sync


def _torch_setup(w: Workload, dtype: str, x, y, platform: str):
    import torch

    import minitorch_jax as mt
    dev = "cuda" if platform == "gpu" and torch.cuda.is_available() else "cpu"
    tdt = getattr(torch, dtype)
    torch.set_float32_matmul_precision(mt.get_float32_matmul_precision())  # the same numerics as mt's column
    torch.manual_seed(0)
    model = w.build(torch).to(device=dev, dtype=tdt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    step = make_step(torch, model, opt, w.loss)
    xt = torch.from_numpy(x).to(device=dev, dtype=tdt)
    yt = torch.from_numpy(y).to(device=dev, dtype=tdt if y.dtype.kind == "f" else torch.int64)

    def sync(out):
        if dev == "cuda":
            torch.cuda.synchronize()

    return (lambda: step(xt, yt)), sync, dev


# ----- one workload -----------------------------------------------------------------------------
def run_workload(name: str, *, steps: int, warmup: int, batch_size: int | None = None, dtype: str = "float32",
                 compare=(), platform: str = "cpu", progress: bool = True) -> dict:
    """Time one workload eagerly and under ``mt.jit`` (plus ``compare`` in {'jax', 'torch'}).

    Args:
        name: a key of :data:`WORKLOADS`.
        steps: timed steps per implementation (median and IQR are taken over these).
        warmup: untimed steps before the timed ones (after compilation, for compiled versions).
        batch_size: overrides the workload's default batch.
        dtype: 'float32', 'bfloat16' or 'float64'.
        compare: extra columns: 'jax' (hand-written JAX+optax under jax.jit), 'torch' (PyTorch eager).
        platform: the JAX platform in use (torch goes to CUDA when it is 'gpu' and torch has CUDA).
        progress: draw a progress bar on stderr (only when it is a terminal).

    Returns:
        a dict: workload, description, batch, eager/jit/jax/torch timings (ms), compile times (s), speedup.
    """
    w = WORKLOADS[name]
    batch = batch_size or w.batch
    x, y = w.data(np.random.default_rng(0), batch)
    n_impl = 2 + len(compare)
    bar = Progress(name, n_impl * (steps + warmup) + 2, enabled=progress)
    row = {"workload": name, "description": w.description, "batch": batch, "dtype": dtype, "notes": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # eager: the first calls also compile each op's kernels; they are warm-up, not timed
        _, call, sync, _ = _mt_setup(w, dtype, x, y, jit=False)
        t0 = time.perf_counter()
        sync(call())
        first = time.perf_counter() - t0
        bar.advance("eager")
        _timed(call, sync, warmup, bar, "eager warmup")
        row["eager"] = {**summarize(_timed(call, sync, steps, bar, "eager")), "first_call_s": first}

        # mt.jit: compile time is the call during which num_compiles went up (the 1st call of a
        # step whose parameters have no gradients yet runs eagerly to create them)
        fn, call, sync, model = _mt_setup(w, dtype, x, y, jit=True)
        compile_s, calls = None, 0
        while compile_s is None and calls < MAX_COMPILE_CALLS:
            before = fn.num_compiles
            t0 = time.perf_counter()
            sync(call())
            dt = time.perf_counter() - t0
            calls += 1
            if fn.num_compiles > before:
                compile_s = dt
        bar.advance("jit compile")
        if compile_s is None:
            row["notes"].append(f"mt.jit did not compile {name} (ran eagerly): {fn.explain()}")
        _timed(call, sync, warmup, bar, "jit warmup")
        row["jit"] = {**summarize(_timed(call, sync, steps, bar, "jit")), "compile_s": compile_s,
                      "calls_to_compile": calls, "num_compiles": fn.num_compiles}
        if fn.num_compiles > 1:
            row["notes"].append(f"mt.jit recompiled {name}: {fn.explain()}")
        row["speedup"] = row["eager"]["median_ms"] / row["jit"]["median_ms"]

        row["jax"] = None
        if "jax" in compare:
            call, sync = _jax_setup(w, dtype, x, y, model)
            t0 = time.perf_counter()
            sync(call())
            jc = time.perf_counter() - t0
            _timed(call, sync, warmup, bar, "jax warmup")
            row["jax"] = {**summarize(_timed(call, sync, steps, bar, "jax.jit")), "compile_s": jc}

        row["torch"] = None
        if "torch" in compare:
            try:
                import torch  # noqa: F401
            except ImportError:
                row["notes"].append("torch is not installed: the torch column is empty (pip install torch)")
            else:
                call, sync, dev = _torch_setup(w, dtype, x, y, platform)
                _timed(call, sync, warmup + 1, bar, "torch warmup")
                row["torch"] = {**summarize(_timed(call, sync, steps, bar, "torch")), "device": dev}
    bar.close()
    return row
