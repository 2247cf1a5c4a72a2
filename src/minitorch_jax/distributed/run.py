"""A torchrun-like launcher: ``python -m minitorch_jax.distributed.run --nproc-per-node N script.py args``.

Starts N copies of the script (or ``-m module``) with MASTER_ADDR, MASTER_PORT (a free port unless
given), WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK and TORCHELASTIC_RUN_ID set,
forwards SIGINT/SIGTERM to them, and fails as a whole: when one process exits non-zero the others
are terminated (SIGTERM, then SIGKILL after a short grace period), the failing rank's exit code and
the tail of its stderr are reported, and the launcher exits with that code.
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

__all__ = ["main", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m minitorch_jax.distributed.run",
                                description="Start N training processes (torchrun's interface).")
    p.add_argument("--nproc-per-node", "--nproc_per_node", dest="nproc", type=int, default=1,
                   help="processes to start on this node")
    p.add_argument("--nnodes", type=int, default=1, help="number of nodes (fixed count)")
    p.add_argument("--node-rank", "--node_rank", dest="node_rank", type=int, default=0)
    p.add_argument("--master-addr", "--master_addr", dest="master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", dest="master_port", type=int, default=None)
    p.add_argument("--standalone", action="store_true", help="single node, free port (the default here)")
    p.add_argument("--grace", type=float, default=3.0,
                   help="seconds between SIGTERM and SIGKILL when stopping the other processes")
    p.add_argument("-m", "--module", dest="module", action="store_true",
                   help="treat the script argument as a module name (python -m)")
    p.add_argument("--no-python", "--no_python", dest="no_python", action="store_true",
                   help="run the script as an executable, not with the Python interpreter")
    p.add_argument("script", help="the training script (or module with -m)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    return p


def _pump(stream, sink, tail: collections.deque) -> None:
    """Copy a child's stderr to ours line by line, keeping the last lines."""
    for line in iter(stream.readline, b""):
        tail.append(line)
        try:
            sink.write(line)
            sink.flush()
        except (OSError, ValueError):
            pass
    stream.close()


def _stop(procs, grace: float) -> None:
    for p in procs:
        if p.poll() is None:
            try:
                p.terminate()
            except OSError:
                pass
    deadline = time.monotonic() + grace
    for p in procs:
        left = max(0.0, deadline - time.monotonic())
        try:
            p.wait(timeout=left)
        except subprocess.TimeoutExpired:
            try:
                p.kill()
            except OSError:
                pass
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def main(argv=None) -> int:
    """Run the launcher; returns the exit code (0 if every process succeeded)."""
    a = _parser().parse_args(argv)
    if a.nproc < 1:
        print("error: --nproc-per-node must be >= 1", file=sys.stderr)
        return 2
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    world = a.nproc * a.nnodes
    port = a.master_port or free_port(a.master_addr if a.nnodes == 1 else "0.0.0.0")
    run_id = os.environ.get("TORCHELASTIC_RUN_ID", uuid.uuid4().hex[:12])
    if a.no_python:
        cmd = [a.script, *args]
    elif a.module:
        cmd = [sys.executable, "-u", "-m", a.script, *args]
    else:
        cmd = [sys.executable, "-u", a.script, *args]
    procs, tails, threads = [], [], []
    for local in range(a.nproc):
        rank = a.node_rank * a.nproc + local
        env = dict(os.environ, MASTER_ADDR=a.master_addr, MASTER_PORT=str(port), WORLD_SIZE=str(world),
                   RANK=str(rank), LOCAL_RANK=str(local), LOCAL_WORLD_SIZE=str(a.nproc),
                   GROUP_RANK=str(a.node_rank), ROLE_RANK=str(rank), ROLE_WORLD_SIZE=str(world),
                   TORCHELASTIC_RUN_ID=run_id, PYTHONUNBUFFERED="1")
        p = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
        tail: collections.deque = collections.deque(maxlen=40)
        t = threading.Thread(target=_pump, args=(p.stderr, sys.stderr.buffer, tail), daemon=True)
        t.start()
        procs.append(p)
        tails.append(tail)
        threads.append(t)

    got_signal = []

    def forward(signum, frame):
        got_signal.append(signum)
        for p in procs:
            if p.poll() is None:
                try:
                    p.send_signal(signum)
                except OSError:
                    pass

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            codes = [p.poll() for p in procs]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed or got_signal:
                if got_signal:
                    deadline = time.monotonic() + a.grace
                    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
                        time.sleep(0.05)
                _stop(procs, a.grace)
                for t in threads:
                    t.join(timeout=1)
                if got_signal:
                    print(f"[minitorch_jax.distributed.run] received signal {got_signal[0]}; "
                          "stopped all processes", file=sys.stderr)
                    return 128 + got_signal[0]
                rank, code = failed[0]
                tail = b"".join(tails[rank]).decode(errors="replace").rstrip()
                local = rank - a.node_rank * a.nproc
                print(f"[minitorch_jax.distributed.run] ChildFailedError: rank {rank} (local_rank {local}) "
                      f"exited with code {code}; the other processes were terminated.\n"
                      f"--- rank {rank} stderr (tail) ---\n{tail}", file=sys.stderr)
                return code if code > 0 else 128 - code
            if all(c == 0 for c in codes):
                for t in threads:
                    t.join(timeout=1)
                return 0
            time.sleep(0.05)
    finally:
        for s, h in old.items():
            signal.signal(s, h)


if __name__ == "__main__":
    sys.exit(main())
