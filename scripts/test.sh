#!/usr/bin/env bash
# The whole test suite: lint, types, tests. Run after scripts/bootstrap.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
status=0
echo "== ruff"
$PY -m ruff check . || status=1
echo "== mypy"
$PY -m mypy sdk/aura_sdk firmware_bridge/aura_bridge training/aura_training export/aura_export benchmarks/aura_bench || status=1
echo "== device side stays torch-free"
$PY -c "import sys, aura_sdk, aura_sdk.cli; sys.exit('torch' in sys.modules)" || { echo "aura_sdk imports torch"; status=1; }
echo "== pytest"
$PY -m pytest "$@"
rc=$?
# pytest exits 5 when it collected no test at all. A suite that ran nothing proved nothing, so
# that is a failure here, said out loud rather than passed on as an unexplained code.
if [ $rc -eq 5 ]; then
  echo "pytest collected no tests: treating that as a failure" >&2
  rc=1
fi
[ $rc -ne 0 ] && status=$rc
exit $status
