#!/usr/bin/env bash
# On the device: the GPU test suite (one xdist run; a test that breaks the CUDA context ends its
# worker, which is named and replaced; then the tests marked serial, alone), then the benchmarks
# named as arguments.
# Usage: bash bench/device_run.sh [TESTS...] -- [bench scripts with args, ';'-separated]
# Logs go under $OUT (pytest.log, bench-*.log).
set -u
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
tests=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do tests+=("$1"); shift; done; shift || true
nvidia-smi --query-gpu=name,memory.used,clocks.sm --format=csv,noheader | tee "$OUT/gpu.txt"
if [ ${#tests[@]} -gt 0 ]; then
  # workers share the cores: two BLAS threads each (sixteen each oversubscribe the machine many times over)
  OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 \
  timeout ${TEST_TIMEOUT:-300} python3 -m pytest -m "${MARK:-gpu or multigpu}" -q -n ${WORKERS:-8} -p no:cacheprovider \
      --tb=short --durations=25 "${tests[@]}" >"$OUT/pytest.log" 2>&1
  echo "pytest rc=$?"; grep -E "^(FAILED|ERROR)|CUDA context broken|crashed|passed|failed" "$OUT/pytest.log" | tail -40
  grep -A27 "slowest 25 durations" "$OUT/pytest.log" | cut -c1-160
  # a run cut by its timeout leaves xdist workers computing: they would load the serial tests' machine
  pkill -f "import sys;exec" 2>/dev/null; sleep 2  # (execnet's worker command line)
  # then the tests that need the machine to themselves (marked serial, skipped among the workers)
  timeout ${SERIAL_TIMEOUT:-150} python3 -m pytest -m "serial and (${MARK:-gpu or multigpu})" -q -p no:cacheprovider \
      --tb=short "${tests[@]}" >"$OUT/pytest-serial.log" 2>&1
  echo "serial pytest rc=$?"; grep -E "^(FAILED|ERROR)|passed|failed" "$OUT/pytest-serial.log" | tail -20
fi
i=0
IFS=';' read -ra benches <<<"${*:-}"
for b in "${benches[@]}"; do
  [ -z "${b// }" ] && continue; i=$((i+1))
  timeout ${BENCH_TIMEOUT:-240} python3 $b >"$OUT/bench-$i.log" 2>&1; echo "bench '$b' rc=$?"
  tail -45 "$OUT/bench-$i.log"
done
