#!/usr/bin/env bash
# Run the GPU test suite under compute-sanitizer (memcheck, racecheck, synccheck).
#
# Usage: bench/sanitize.sh [-t "memcheck racecheck synccheck"] [-m MARKS] [-k EXPR] [-n WORKERS] [-o OUT] [-d FILE] [-s FILE] [-l]
#                          [TESTS...]
#   -t TOOLS   tools to run (default: all three)
#   -m MARKS   pytest -m selection (default: "gpu or not gpu": every test, host arrays computed on
#              the GPU included); hypothesis tests take GPMATH_TEST_MAX_EXAMPLES examples (default 3)
#   -k EXPR    pytest -k selection, for every tool
#   -n WORKERS pytest-xdist workers, each sanitized (default: 0, one process)
#   -o OUT     output folder (default: $OUT, else ./sanitize-out)
#   -d FILE    leave out the tests whose node ids FILE lists (those an earlier run checked)
#   -s FILE    run only the tests whose node ids FILE lists (an earlier -l run's launching_<tool>.txt)
#   -l         with SANITIZE_KERNELS: first a pass without the sanitizer records the tests that launch one of
#              gpmath's kernels or start a child process (OUT/launching_<tool>.txt), then only those are
#              sanitized; the others launch nothing the filtered check looks at (bench/sanitize_plugin.py)
#   TESTS      test files or node ids (default: tests/)
# Per-tool subsets (racecheck and synccheck are very slow): SANITIZE_TESTS_<TOOL> and
# SANITIZE_K_<TOOL> override TESTS and -k for that tool, e.g.
#   SANITIZE_TESTS_RACECHECK="tests/test_robust_gpu.py tests/test_threads.py" bench/sanitize.sh
# SANITIZE_KERNELS="A|B|..." checks only the kernels whose names contain A or B or ... (compute-sanitizer
# --kernel-name kns=A --kernel-name kns=B ...; the others run unchecked): gpmath's own kernels over the suite,
#   SANITIZE_KERNELS="small_|lu_permute|zero_diagonal|r2r_|rcond_" bench/sanitize.sh -t racecheck -m gpu
# Each tool's full output goes to OUT/sanitizer_<tool>.log; one summary line per tool is printed.
# Seen on an H200 (2026-12-03): 14 sanitized workers finished no test in 575 s (8 workers got through
# most of the suite before): keep WORKERS at 8 or fewer.
# The exit status is 1 if any tool reported errors (or racecheck hazards) or pytest failed, else 0.
set -u
TOOLS="memcheck racecheck synccheck"
KEXPR=""
MARKS="gpu or not gpu"
WORKERS=0
OUT_DIR="${OUT:-./sanitize-out}"
LAUNCHING=0
SELECT_FILE=""
while getopts "t:m:k:n:o:d:s:lh" opt; do
  case "$opt" in
    t) TOOLS="$OPTARG" ;;
    m) MARKS="$OPTARG" ;;
    n) WORKERS="$OPTARG" ;;
    k) KEXPR="$OPTARG" ;;
    o) OUT_DIR="$OPTARG" ;;
    d) export SANITIZE_DESELECT; SANITIZE_DESELECT="$(realpath "$OPTARG")" ;;
    s) SELECT_FILE="$(realpath "$OPTARG")" ;;
    l) LAUNCHING=1 ;;
    h) sed -n '2,27p' "$0"; exit 0 ;;
    *) sed -n '2,27p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
DEFAULT_TESTS=("$@")
[ ${#DEFAULT_TESTS[@]} -eq 0 ] && DEFAULT_TESTS=(tests/)
mkdir -p "$OUT_DIR"
if [ "$LAUNCHING" -eq 1 ] && [ -z "${SANITIZE_KERNELS:-}" ]; then
  echo "-l needs SANITIZE_KERNELS (every kernel is checked without it)"; exit 2
fi
export PYTHONPATH="$(cd "$(dirname "$0")" && pwd)${PYTHONPATH:+:$PYTHONPATH}"  # bench/sanitize_plugin.py
# capture children (tests/test_robust_gpu.py) run under the sanitizer too: give them time
export GPMATH_ROBUST_CHILD_TIMEOUT="${GPMATH_ROBUST_CHILD_TIMEOUT:-3000}"
export GPMATH_TEST_MAX_EXAMPLES="${GPMATH_TEST_MAX_EXAMPLES:-3}"
status=0
for tool in $TOOLS; do
  upper=$(echo "$tool" | tr '[:lower:]' '[:upper:]')
  tests_var="SANITIZE_TESTS_${upper}"; k_var="SANITIZE_K_${upper}"
  if [ -n "${!tests_var:-}" ]; then read -r -a tests <<< "${!tests_var}"; else tests=("${DEFAULT_TESTS[@]}"); fi
  k="${!k_var:-$KEXPR}"
  log="$OUT_DIR/sanitizer_${tool}.log"
  # -v names each test as it ends; pytest-timeout (where installed) dumps the stacks of a test that
  # outlives SANITIZE_TEST_TIMEOUT, so that a stall names itself instead of eating the whole run
  args=(python3 -m pytest -v -m "$MARKS" -p no:cacheprovider -p sanitize_plugin)
  python3 -c "import pytest_timeout" 2>/dev/null && args+=(--timeout "${SANITIZE_TEST_TIMEOUT:-240}")
  [ "$WORKERS" -gt 0 ] && args+=(-n "$WORKERS")
  [ -n "$k" ] && args+=(-k "$k")
  args+=("${tests[@]}")
  unset SANITIZE_SELECT
  [ -n "$SELECT_FILE" ] && export SANITIZE_SELECT="$SELECT_FILE"
  if [ "$LAUNCHING" -eq 1 ]; then  # the tests a filtered check can report for, found without the sanitizer
    record="$OUT_DIR/launching_${tool}"
    rm -f "$record".*
    SANITIZE_RECORD="$record" "${args[@]}" > "$record.log" 2>&1
    cat "$record".[0-9]* 2>/dev/null | sort -u > "$record.txt"
    rm -f "$record".[0-9]*  # one part per worker, merged above
    echo "$tool: $(wc -l < "$record.txt") tests launch gpmath's kernels or start a child ($record.txt)"
    if [ ! -s "$record.txt" ]; then echo "$tool: nothing to sanitize"; continue; fi
    export SANITIZE_SELECT="$record.txt"
  fi
  echo "== $tool: ${args[*]}" > "$log"
  # API errors are not reported: cuda-bindings probes driver entry points with cuGetProcAddress,
  # which answers "invalid argument" for those this driver lacks (one report per process)
  filter=()
  IFS='|' read -r -a names <<< "${SANITIZE_KERNELS:-}"
  for name in "${names[@]}"; do filter+=(--kernel-name "kns=$name"); done
  compute-sanitizer --tool "$tool" --target-processes all --report-api-errors no --error-exitcode 1 "${filter[@]}" \
      "${args[@]}" >> "$log" 2>&1
  rc=$?
  # one summary per sanitized process (capture children included): add them up; racecheck's reads
  # "RACECHECK SUMMARY: N hazards displayed (E errors, W warnings)"
  count=$(grep -cE "(ERROR|RACECHECK) SUMMARY: [0-9]+ (error|hazard)" "$log")
  total=$(grep -oE "(ERROR|RACECHECK) SUMMARY: [0-9]+" "$log" | awk '{s += $3} END {print s + 0}')
  if [ "$count" -gt 0 ]; then summary="SUMMARY: $total errors or hazards ($count processes)"
  else summary="SUMMARY: not reported (see $log)"; fi
  pytest_line=$(grep -E "^=+ .*[0-9]+ (passed|failed|error).* in [0-9.]+s" "$log" | tail -n 1)  # (not the sanitizer's ===)
  done_count=$(grep -cE " (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)( |$)" "$log")
  pytest_line="${pytest_line:-$done_count tests ended}"
  echo "$tool: $summary | pytest: ${pytest_line:-?} | exit $rc | $log"
  { [ "$rc" -ne 0 ] || [ "$total" -gt 0 ]; } && status=1
done
exit $status
