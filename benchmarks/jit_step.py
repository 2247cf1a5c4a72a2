"""Training-step speed: mt eager vs mt.jit (automatic state capture) vs hand-written JAX+optax
(jax.jit with donation) vs flax.nnx (nnx.jit) vs torch eager, in one run.

Reports the median time per step (after warm-up; the frameworks are timed in alternating blocks,
``--rounds``, and the fastest block's median is kept, so drift in the machine's speed hits all
alike), first-call compile time (each measured in a fresh process, so no framework inherits another's
compiled kernels or GPU autotuning results), and each time as a ratio over hand-written jitted JAX; every
column computes float32 matmuls at the same ``--matmul-precision`` (torch's default, "highest").
Workloads: an MLP 784-512-512-10 (batch 128), a tiny MLP
32-64-64-10 (batch 32, per-call overhead dominates) and a small CNN.

    python benchmarks/jit_step.py [--steps 200] [--workloads mlp,tiny,cnn] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import minitorch_jax as mt

WORKLOADS = {
    "mlp": dict(kind="mlp", sizes=(784, 512, 512, 10), batch=128),
    "tiny": dict(kind="mlp", sizes=(32, 64, 64, 10), batch=32),
    "cnn": dict(kind="cnn", batch=32),
}


def _sync(x):
    jax.block_until_ready(x._data if isinstance(x, mt.Tensor) else x)


def _time(step, steps, warmup):
    for _ in range(warmup):
        _sync(step())
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        _sync(step())
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _first_call(step):
    t = time.perf_counter()
    _sync(step())
    return time.perf_counter() - t


# ----- the model in each framework -----------------------------------------------------------
def _mt_model(w):
    nn = mt.nn
    if w["kind"] == "mlp":
        a, b, c, d = w["sizes"]
        return nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, c), nn.ReLU(), nn.Linear(c, d))
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 7 * 7, 10))


def _data(w, rng):
    n = w["batch"]
    if w["kind"] == "mlp":
        x = rng.standard_normal((n, w["sizes"][0])).astype("float32")
        y = rng.integers(0, w["sizes"][-1], n)
    else:
        x = rng.standard_normal((n, 1, 28, 28)).astype("float32")
        y = rng.integers(0, 10, n)
    return x, y


def _mt_steps(w, x, y):
    model = _mt_model(w)
    opt = mt.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = mt.tensor(x), mt.tensor(y)
    F = mt.nn.functional

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return (lambda: step(xt, yt)), model


def _mt_jit_step(w, x, y, zero_grad_last=False):
    """``(compiled step, model, step with the data bound)``; ``zero_grad_last``: the step written
    ``loss.backward(); opt.step(); opt.zero_grad()`` (no ``.grad`` comes back from its program)."""
    model = _mt_model(w)
    opt = mt.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = mt.tensor(x), mt.tensor(y)
    F = mt.nn.functional

    @mt.jit
    def train_step(x, y):
        if not zero_grad_last:
            opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if zero_grad_last:
            opt.zero_grad()
        return loss

    return train_step, model, lambda: train_step(xt, yt)


def _jax_params(model):
    # copies: a numpy view would keep a reference to the model's arrays (mt.jit then copies, not donates)
    return [(np.array(m.weight.detach().numpy()), np.array(m.bias.detach().numpy()))
            for m in model.modules() if isinstance(m, (mt.nn.Linear, mt.nn.Conv2d))]


def _jax_forward(w):
    if w["kind"] == "mlp":
        def fwd(params, x):
            for i, (wt, b) in enumerate(params):
                x = x @ wt.T + b
                if i < len(params) - 1:
                    x = jax.nn.relu(x)
            return x
        return fwd

    def conv(x, wt, b):
        y = jax.lax.conv_general_dilated(x, wt, (1, 1), ((1, 1), (1, 1)),
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + b[None, :, None, None]

    def pool(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def fwd(params, x):
        (w1, b1), (w2, b2), (w3, b3) = params
        x = pool(jax.nn.relu(conv(x, w1, b1)))
        x = pool(jax.nn.relu(conv(x, w2, b2)))
        return x.reshape(x.shape[0], -1) @ w3.T + b3
    return fwd


def _jax_step(w, params, x, y, jit=True):
    fwd = _jax_forward(w)
    tx = optax.adam(1e-3)
    params = jax.tree_util.tree_map(jnp.asarray, params)
    state = [params, tx.init(params)]

    def loss_fn(p, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(fwd(p, x), y).mean()

    def update(p, s, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        upd, s = tx.update(g, s, p)
        return optax.apply_updates(p, upd), s, loss

    upd = jax.jit(update, donate_argnums=(0, 1)) if jit else update
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def step():
        state[0], state[1], loss = upd(state[0], state[1], xj, yj)
        return loss
    return step


def _nnx_step(w, x, y):
    try:
        from flax import nnx
    except Exception:  # pragma: no cover - flax is a dependency, but be robust
        return None
    if w["kind"] != "mlp":
        return None
    a, b, c, d = w["sizes"]

    class MLP(nnx.Module):
        def __init__(self, rngs):
            self.l1 = nnx.Linear(a, b, rngs=rngs)
            self.l2 = nnx.Linear(b, c, rngs=rngs)
            self.l3 = nnx.Linear(c, d, rngs=rngs)

        def __call__(self, x):
            return self.l3(nnx.relu(self.l2(nnx.relu(self.l1(x)))))

    model = MLP(nnx.Rngs(0))
    try:
        optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    except TypeError:
        optimizer = nnx.Optimizer(model, optax.adam(1e-3))

    @nnx.jit
    def train_step(model, optimizer, x, y):
        def loss_fn(model):
            return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()
        loss, grads = nnx.value_and_grad(loss_fn)(model)
        try:
            optimizer.update(model, grads)
        except TypeError:
            optimizer.update(grads)
        return loss

    xj, yj = jnp.asarray(x), jnp.asarray(y)
    return lambda: train_step(model, optimizer, xj, yj)


def _torch_step(w, model, x, y):
    try:
        import torch
    except ImportError:
        return None
    tnn = torch.nn
    if w["kind"] == "mlp":
        a, b, c, d = w["sizes"]
        tm = tnn.Sequential(tnn.Linear(a, b), tnn.ReLU(), tnn.Linear(b, c), tnn.ReLU(), tnn.Linear(c, d))
    else:
        tm = tnn.Sequential(tnn.Conv2d(1, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                            tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                            tnn.Linear(32 * 7 * 7, 10))
    opt = torch.optim.Adam(tm.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = tnn.functional.cross_entropy(tm(xt), yt)
        loss.backward()
        opt.step()
        return loss.detach().numpy()
    return step


def _interleaved(steps_by_key, counts, rounds, warmup):
    """Time each step function in ``rounds`` alternating blocks (so drift in the machine's speed hits
    every framework alike); the result per key is the fastest block's median (interference from other
    work on a shared machine only ever slows a block down)."""
    per = {k: [] for k in steps_by_key}
    for _ in range(rounds):
        for k, fn in steps_by_key.items():
            n = max(3, counts[k] // rounds)
            per[k].append(_time(fn, n, warmup))
    return {k: min(v) for k, v in per.items()}


def _compile_probe(framework, name):
    """First-call time of one framework's step on one workload, in this (fresh) process."""
    w = WORKLOADS[name]
    x, y = _data(w, np.random.default_rng(0))
    mt.manual_seed(0)
    if framework == "mt_jit":
        _, _, step = _mt_jit_step(w, x, y)
        _sync(step())  # the eager warm-up call (creates gradients and optimizer state)
    elif framework == "jax_jit":
        step = _jax_step(w, _jax_params(_mt_model(w)), x, y)
    else:
        step = _nnx_step(w, x, y)
    return _first_call(step)


def _isolated_compile_times(name, frameworks, precision):
    """Compile times each measured in a fresh process: XLA caches autotuning results (GPU) and other work
    per process, so whichever framework compiled a workload first would pay for the others."""
    out = {}
    for fw in frameworks:
        cmd = [sys.executable, os.path.abspath(__file__), "--compile-probe", f"{fw}:{name}",
               "--matmul-precision", precision]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if res.returncode != 0:
            raise RuntimeError(f"compile probe {fw}:{name} failed:\n{res.stderr[-2000:]}")
        out[fw + "_compile"] = float(res.stdout.strip().splitlines()[-1])
    return out


def run(workloads, steps, warmup, eager_steps, rounds=5, isolated_compile=True, on_row=None):
    """Time every framework on each workload; ``on_row(row)`` is called as each workload finishes (so a
    time-boxed run still reports the workloads it finished)."""
    rows = []
    for name in workloads:
        w = WORKLOADS[name]
        rng = np.random.default_rng(0)
        x, y = _data(w, rng)
        mt.manual_seed(0)
        row = {"workload": name}
        fns, counts = {}, {}
        eager, model = _mt_steps(w, x, y)
        fns["mt_eager"], counts["mt_eager"] = eager, eager_steps
        mt.manual_seed(0)
        train_step, model_j, run_jit = _mt_jit_step(w, x, y)
        _sync(run_jit())  # eager warm-up call (creates gradients and optimizer state)
        row["mt_jit_compile"] = _first_call(run_jit)
        fns["mt_jit"], counts["mt_jit"] = run_jit, steps
        params = _jax_params(model_j)
        jstep = _jax_step(w, params, x, y)
        row["jax_jit_compile"] = _first_call(jstep)
        fns["jax_jit"], counts["jax_jit"] = jstep, steps
        nnx_step = _nnx_step(w, x, y)
        if nnx_step is not None:
            row["nnx_jit_compile"] = _first_call(nnx_step)
            fns["nnx_jit"], counts["nnx_jit"] = nnx_step, steps
        tstep = _torch_step(w, model, x, y)
        if tstep is not None:
            import torch
            torch.set_num_threads(max(1, torch.get_num_threads()))
            fns["torch_eager"], counts["torch_eager"] = tstep, eager_steps
        for fn in fns.values():
            _sync(fn())  # first calls (mt eager creates its optimizer state) before the counts below
        copies, walks = train_step._n_copies, train_step._n_walks
        row.update(_interleaved(fns, counts, rounds, warmup))
        assert train_step.num_compiles == 1, train_step.explain()
        # both stay 0 in a steady loop: a copy means something else held a parameter's array
        row["mt_jit_donation_copies"] = train_step._n_copies - copies
        row["mt_jit_state_walks"] = train_step._n_walks - walks
        if isolated_compile:
            probes = [k for k in ("mt_jit", "jax_jit", "nnx_jit") if k in fns]
            row.update(_isolated_compile_times(name, probes, mt.get_float32_matmul_precision()))
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


_COLUMNS = [("mt_eager", "mt eager"), ("mt_jit", "mt.jit"), ("jax_jit", "JAX jit"), ("nnx_jit", "nnx.jit"),
            ("torch_eager", "torch eager")]


def report_header():
    """Print the machine line and the table's column names."""
    host = platform.processor() or platform.machine()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {host}; float32 matmul precision "
          f"{mt.get_float32_matmul_precision()} in every column")
    print(f"{'workload':10s}" + "".join(f"{label:>22s}" for _, label in _COLUMNS)
          + f"{'compile mt.jit/JAX':>22s}", flush=True)


def report(rows):
    """Print one table line per workload: time per step and its ratio to hand-written JAX's."""
    for r in rows:
        base = r["jax_jit"]
        cells = []
        for key, _ in _COLUMNS:
            v = r.get(key)
            cells.append(f"{v * 1e3:9.3f} ms ({v / base:5.2f}x)" if v else f"{'-':>22s}")
        comp = f"{r['mt_jit_compile']:.2f}s / {r['jax_jit_compile']:.2f}s"
        print(f"{r['workload']:10s}" + "".join(f"{c:>22s}" for c in cells) + f"{comp:>22s}")
        if r.get("mt_jit_donation_copies") or r.get("mt_jit_state_walks"):
            print(f"{'':10s}note: while timed, mt.jit copied {r['mt_jit_donation_copies']} array(s) before "
                  f"donation and re-walked its state {r['mt_jit_state_walks']} time(s) (expected 0 and 0)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--eager-steps", type=int, default=30)
    p.add_argument("--workloads", default="mlp,tiny,cnn")
    p.add_argument("--rounds", type=int, default=5,
                   help="alternating timing blocks per framework (the fastest block's median is reported)")
    p.add_argument("--matmul-precision", default="highest", choices=("highest", "high", "medium"),
                   help="float32 matmul/conv precision of every framework: 'highest' (torch's default, full "
                        "float32) or 'high'/'medium' (TF32/bf16 passes on GPUs)")
    p.add_argument("--no-isolated-compile", dest="isolated_compile", action="store_false",
                   help="time first calls in this process (faster; order-dependent: XLA's per-process caches "
                        "favour whichever framework compiles a workload second)")
    p.add_argument("--compile-probe", default=None, help=argparse.SUPPRESS)  # FRAMEWORK:WORKLOAD, internal
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    # the same numerics in every column: mt passes its level to each op; JAX and flax take jax's default
    mt.set_float32_matmul_precision(a.matmul_precision)
    jax.config.update("jax_default_matmul_precision", {"medium": "default"}.get(a.matmul_precision,
                                                                                a.matmul_precision))
    if a.compile_probe:
        framework, name = a.compile_probe.split(":")
        print(_compile_probe(framework, name))
        return None
    report_header()
    done = []

    def on_row(row):
        done.append(row)
        report([row])
        if a.json:  # rewritten after each workload
            with open(a.json, "w") as f:
                json.dump({"rows": done, "jax": jax.__version__, "device": str(jax.devices()[0])}, f,
                          indent=1)

    rows = run(a.workloads.split(","), a.steps, a.warmup, a.eager_steps, a.rounds, a.isolated_compile, on_row)
    return rows


if __name__ == "__main__":
    main()
