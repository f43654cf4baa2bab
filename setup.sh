#!/usr/bin/env bash
# Set up popsim in ./.venv from scratch (idempotent: a second run only checks).
#   ./setup.sh          the package, the embedded model (llama.cpp, built for this CPU) and its weights
#   ./setup.sh --test   also what the tests need: the llama.cpp server extra, hypothesis, pytest,
#                       Playwright (Python) and Debian's chromium for the browser test, Ray
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
TEST=0
[ "${1:-}" = "--test" ] && TEST=1

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi
PIP=".venv/bin/python -m pip"
$PIP install --quiet --upgrade pip wheel setuptools 2>&1 | grep -v "^WARNING: Location" || true

# llama-cpp-python 0.3.16 built from source for this CPU (the PyPI sdist; about 4 minutes the first
# time, then pip's wheel cache). 0.3.16 is the version proven on this hardware: 0.3.36 built natively
# crashes on AVX-512/AMX CPUs at the first decode (see README, "Installing the embedded model").
if ! .venv/bin/python -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '0.3.16')" 2>/dev/null; then
    echo "setup: building llama-cpp-python 0.3.16 for this CPU (about 4 minutes) ..."
    $PIP install --quiet --no-binary llama-cpp-python "llama-cpp-python==0.3.16" 2>&1 | grep -v "^WARNING: Location" || true
fi

if [ "$TEST" = 1 ]; then
    $PIP install --quiet -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
    if ! command -v chromium >/dev/null 2>&1; then
        echo "setup: installing Debian's chromium for the browser test ..."
        if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    fi
else
    $PIP install --quiet -e . 2>&1 | grep -v "^WARNING: Location" || true
fi

# The Solara page's browser assets (JavaScript app, require.js, Font Awesome) come from Solara's CDN, which
# offline machines cannot reach: fetch them once from the npm registry into the venv's Solara cache.
if ! command -v npm >/dev/null 2>&1 && [ "$TEST" = 1 ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null
fi
if command -v npm >/dev/null 2>&1; then
    .venv/bin/python -m popsim.page.assets >/dev/null
else
    echo "setup: npm not found: the Solara page needs its browser assets (install npm, rerun ./setup.sh)"
fi
.venv/bin/python -c "import popsim, llama_cpp; from popsim.backends.embedded import find_model_file; \
print('setup: popsim ready; llama.cpp', llama_cpp.__version__, '; model', find_model_file().name)"
