#!/usr/bin/env bash
# Set up a development environment from nothing but Python 3.11: a virtualenv in .venv with
# the project and every extra the test suite needs. Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and pinned: a looser spec, or letting an extra pull it, can fetch a multi-GB CUDA
# build. 2.13.0 resolves to the CPU wheel on these machines.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "bootstrap: ready (.venv)"
