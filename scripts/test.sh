#!/bin/bash
# The project's test command: venv, real backends, lint, type check, then the whole pytest suite
# twice, once on SQLite and once on PostgreSQL. Extra arguments go to pytest.
#
#   bash scripts/test.sh                  # everything (what CI runs)
#   bash scripts/test.sh -k infra -x      # a subset, on both databases
#   EXECBROKER_TEST_DB_ONLY=sqlite        # only one database run (sqlite|postgresql)
#   EXECBROKER_SKIP_LINT=1                # skip ruff + mypy (local partial runs only)
#
# A test whose backend is missing fails (tests/conftest.py), so a broken service can never pass as
# a green run. A pytest run that collects no test (exit 5) counts as a failure too.
set -uo pipefail
# shellcheck source=scripts/lib-services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-services.sh"
cd "$REPO"
T_TOTAL=$(now)
mkdir -p "$WORK"
rm -f "$WORK/test-total.txt"

bash scripts/ensure-venv.sh || { echo "ERROR: could not set up .venv" >&2; exit 1; }
bash scripts/services-up.sh || { echo "ERROR: the test services are not up (see above)" >&2; exit 1; }
# shellcheck source=/dev/null
source "$ENV_FILE"
export EXECBROKER_SHARED="${EXECBROKER_SHARED:-$(cd "$REPO/.." && pwd)/shared}"

failures=()
results=()

if [ "${EXECBROKER_SKIP_LINT:-0}" = 1 ]; then
  log "EXECBROKER_SKIP_LINT=1: skipping ruff and mypy"
else
  t0=$(now)
  lint_dirs=()
  for d in src tests benchmarks; do [ -d "$d" ] && lint_dirs+=("$d"); done
  log "ruff check ${lint_dirs[*]}"
  .venv/bin/ruff check "${lint_dirs[@]}" || failures+=("ruff")
  elapsed "ruff" "$t0"
  t0=$(now)
  log "mypy (config in pyproject.toml)"
  .venv/bin/mypy || failures+=("mypy")
  elapsed "mypy" "$t0"
fi

case "${EXECBROKER_TEST_DB_ONLY:-}" in
  "") dbs=(sqlite postgresql) ;;
  sqlite|postgresql) dbs=("$EXECBROKER_TEST_DB_ONLY") ;;
  *) echo "ERROR: EXECBROKER_TEST_DB_ONLY must be sqlite or postgresql" >&2; exit 2 ;;
esac

# Reads pytest's closing line ("== 3 failed, 40 passed, 2 skipped in 9.1s ==") into counts.
count_in() { # word line
  grep -oE "[0-9]+ $1" <<<"$2" | head -n1 | cut -d' ' -f1 || true
}
tot_pass=0; tot_fail=0; tot_skip=0

for db in "${dbs[@]}"; do
  t0=$(now)
  out="$WORK/pytest-$db.log"
  log "pytest on $db"
  EXECBROKER_TEST_DB=$db .venv/bin/pytest "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$out" \
            | grep -E '(passed|failed|errors?|skipped|no tests ran|deselected)[^=]* in [0-9.]+s' | tail -n1)
  p=$(count_in passed "$summary"); f=$(count_in failed "$summary"); e=$(count_in error "$summary")
  s=$(count_in skipped "$summary")
  tot_pass=$((tot_pass + ${p:-0})); tot_fail=$((tot_fail + ${f:-0} + ${e:-0})); tot_skip=$((tot_skip + ${s:-0}))
  case $rc in
    0) ;;
    5) echo "ERROR: pytest on $db ran no test (exit 5): an empty run is a failure" >&2
       failures+=("pytest-$db (no tests ran)") ;;
    *) failures+=("pytest-$db (exit $rc)") ;;
  esac
  results+=("$db: ${summary:-<no summary line, exit $rc>}")
  elapsed "pytest $db" "$t0"
done

echo
echo "==== test.sh summary ===="
for r in "${results[@]}"; do echo "  $r"; done
elapsed "test.sh total" "$T_TOTAL"
# The last line, in the plain "N passed, N failed" form, counts both database runs together;
# .ci/run repeats it from this file as its own closing line.
total="total: $tot_pass passed, $tot_fail failed, $tot_skip skipped"
echo "$total" > "$WORK/test-total.txt"
if [ ${#failures[@]} -gt 0 ]; then
  echo "FAILED: ${failures[*]}"
  echo "$total"
  exit 1
fi
echo "$total"
