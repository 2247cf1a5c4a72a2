#!/usr/bin/env bash
# One prepared GPU check (for a session lent an accelerator): the test suite on jax[cuda] with
# the local torch as oracle, then the eager-overhead benchmark and the demo, logs under $OUT.
set -uo pipefail
export PYTHONPATH="$PWD/src" PYTHONUNBUFFERED=1
# several pytest workers share one GPU: no preallocation, a small slice each
export XLA_PYTHON_CLIENT_PREALLOCATE=false XLA_PYTHON_CLIENT_MEM_FRACTION=0.08
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
nvidia-smi -L
python3 -c "import jax, torch; print('jax', jax.__version__, jax.devices(), 'torch', torch.__version__)"
timeout "${TEST_TIMEOUT:-280}" python3 -m pytest tests -q -n 8 -p no:cacheprovider -p no:warnings \
  2>&1 | tee "$OUT/tests.log" | tail -25
timeout 100 python3 benchmarks/eager_overhead.py --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log" | tail -28
timeout 60 python3 examples/demo.py --quick 2>&1 | tee "$OUT/demo.log" | tail -8
