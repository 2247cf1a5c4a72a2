#!/usr/bin/env bash
# One prepared GPU check for a session lent an accelerator (15 minutes of device time): at most 9.8
# minutes, inside one 600 s call. In order of importance, each part time-boxed and writing its log under
# $OUT as it goes:
#   1. the per-call overhead of mt.jit (benchmarks/jit_overhead.py; profile_step.py: where the host time
#      goes, in profile.log), and what not donating shared values on CUDA costs and protects
#      (benchmarks/donation_check.py: jax-ml/jax#39625);
#   2. the jit-step benchmark (benchmarks/jit_step.py, every column at torch's default "highest" float32
#      matmul precision; compile times in fresh processes; one line per workload as each finishes);
#   3. the bench command (the README's main job) on three workloads;
#   4. the tests on jax[cuda] with the machine's torch as oracle, the GPU-relevant files first (the time
#      box ends the run before all of them), each failure's traceback appended to failures.log as it
#      happens (tests/conftest.py, MT_FAILURE_LOG).
# The GPU image's torch is older than the pinned oracle (2.11 against 2.13 in 2026-11): the tests of
# 2.13 behaviour seen failing there are marked needs_torch(2, 13) (tests/oracle.py) and skip; any new such
# failure should be marked the same way (test_nn_linear_ce is left out below for that reason).
set -uo pipefail
export PYTHONPATH="$PWD/src" PYTHONUNBUFFERED=1
# several pytest workers share one GPU: no preallocation, a small slice each
export XLA_PYTHON_CLIENT_PREALLOCATE=false XLA_PYTHON_CLIENT_MEM_FRACTION=0.5
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
nvidia-smi -L
python3 -c "import jax, torch; print('jax', jax.__version__, jax.devices(), 'torch', torch.__version__)"
(cd benchmarks && timeout 95 python3 jit_overhead.py --steps 150 --rounds 3 2>&1) | grep -v Warn | tee "$OUT/jit_overhead.log"
(cd benchmarks && timeout 40 python3 profile_step.py --steps 300 --top 12 2>&1) | grep -v Warn > "$OUT/profile.log"
(cd benchmarks && timeout 65 python3 donation_check.py --steps 200 --rounds 3 2>&1) | grep -v Warn | tee "$OUT/donation.log"
timeout "${STEP_TIMEOUT:-220}" python3 benchmarks/jit_step.py --steps 100 --eager-steps 10 --rounds 3 \
  --workloads cnn,mlp,tiny --json "$OUT/jit_step.json" 2>&1 | grep -v Warn | tee "$OUT/jit_step.log"
# (three workloads, no comparison column: all six with JAX's did not finish in 60 s there)
timeout 60 python3 -m minitorch_jax.bench --steps 10 --workloads tiny-mlp,lstm,transformer \
  --json "$OUT/bench.json" 2>&1 | grep -v Warn | tee "$OUT/bench.log" | tail -8
export XLA_PYTHON_CLIENT_MEM_FRACTION=0.05
skip="test_op_parity test_repr test_lr_scheduler test_examples test_distributed test_distributed_jit \
test_distributed_groups test_distributed_store test_onnx test_nn_linear_ce"
first=$(printf '%s\n' tests/test_jit_shared_values.py tests/test_jit*.py tests/test_views.py tests/test_no_transfers.py tests/test_program_*.py \
  tests/test_optim*.py tests/test_nn_*.py tests/test_tensor*.py tests/test_cuda*.py tests/test_devices.py)
rest=$(ls tests/test_*.py | grep -vxF -f <(printf '%s\n' $first))
files=$(printf '%s\n' $first $rest | grep -vE "/($(echo $skip | tr ' ' '|'))\.py$")
MT_FAILURE_LOG="$OUT/failures.log" timeout "${TEST_TIMEOUT:-100}" python3 -m pytest $files -v -n 14 \
  -p no:cacheprovider -p no:warnings -p no:benchmark -p no:randomly -rfE --tb=short > "$OUT/tests.log" 2>&1
echo "pytest exit $? (124: the time box ended it)"; grep -cE " PASSED " "$OUT/tests.log"
grep -E "FAILED|ERROR|node down" "$OUT/tests.log" | sed 's/ - .*//' | sort -u | head -80
