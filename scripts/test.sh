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
echo "== base install (no extras): importable, torch-free, CLI answers"
# A device gets `pip install aura-sdk` and nothing else: check that this really works.
if [ ! -x .venv-base/bin/python ]; then
  "$($PY -c 'import sys; print(sys._base_executable)')" -m venv .venv-base
fi
.venv-base/bin/python -m pip install --quiet -e . \
  && .venv-base/bin/python -c "import sys, aura_sdk; from aura_sdk import LiveRecognizer, load_bundle, SensorSpec; sys.exit('torch' in sys.modules)" \
  && ! .venv-base/bin/python -c "import torch" 2>/dev/null \
  && .venv-base/bin/aura --help >/dev/null \
  && .venv-base/bin/python -c "import sys; from aura_sdk import load_bundle; m = load_bundle(); sys.exit('torch' in sys.modules or len(m.labels) < 40)" \
  && .venv-base/bin/python scripts/base_install_check.py \
  || { echo "base install check failed"; status=1; }
echo "== base install + text extra: free-text labels on the device, still torch-free"
if [ ! -x .venv-text/bin/python ]; then
  "$($PY -c 'import sys; print(sys._base_executable)')" -m venv .venv-text
fi
.venv-text/bin/python -m pip install --quiet -e ".[text]" \
  && ! .venv-text/bin/python -c "import torch" 2>/dev/null \
  && .venv-text/bin/python scripts/base_install_check.py --text \
  || { echo "base + text install check failed"; status=1; }
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
