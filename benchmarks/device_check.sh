#!/usr/bin/env bash
# One prepared GPU check (for a session lent an accelerator), in order of importance, each part
# time-boxed: the per-call overhead of mt.jit (benchmarks/jit_overhead.py), the jit-step benchmark
# (benchmarks/jit_step.py, every column at torch's default "highest" float32 matmul precision), the
# bench command, then the layer/jit/optim/data tests on jax[cuda] with the local torch as oracle
# (verbose, so the names of failures are in tests.log even when the time box ends the run).
# Logs under $OUT. About 6 minutes on an H100 with the default time boxes.
set -uo pipefail
export PYTHONPATH="$PWD/src" PYTHONUNBUFFERED=1
# several pytest workers share one GPU: no preallocation, a small slice each
export XLA_PYTHON_CLIENT_PREALLOCATE=false XLA_PYTHON_CLIENT_MEM_FRACTION=0.5
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
nvidia-smi -L
python3 -c "import jax, torch; print('jax', jax.__version__, jax.devices(), 'torch', torch.__version__)"
(cd benchmarks && timeout 60 python3 jit_overhead.py 2>&1) | tee "$OUT/jit_overhead.log" | grep -v Warn
timeout 150 python3 benchmarks/jit_step.py --steps 100 --eager-steps 10 --rounds 3 --json "$OUT/jit_step.json" \
  2>&1 | tee "$OUT/jit_step.log" | tail -9
timeout 60 python3 -m minitorch_jax.bench --quiet --steps 10 --compare jax --json "$OUT/bench.json" 2>&1 \
  | tee "$OUT/bench.log" | tail -9
export XLA_PYTHON_CLIENT_MEM_FRACTION=0.05
timeout "${TEST_TIMEOUT:-150}" python3 -m pytest tests -v -n 14 -p no:cacheprovider -p no:warnings -p no:benchmark \
  -rfE --tb=short --ignore=tests/test_op_parity.py --ignore=tests/test_repr.py --ignore=tests/test_lr_scheduler.py \
  --ignore=tests/test_examples.py --ignore=tests/test_distributed.py --ignore=tests/test_distributed_jit.py \
  --ignore=tests/test_distributed_groups.py --ignore=tests/test_onnx.py > "$OUT/tests.log" 2>&1
echo "pytest exit $? (124: the time box ended it)"; grep -cE " PASSED " "$OUT/tests.log"
grep -E "FAILED|ERROR|node down" "$OUT/tests.log" | sed 's/ - .*//' | sort -u | head -80
