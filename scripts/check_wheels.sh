#!/usr/bin/env bash
# Would requirements.txt install on Streamlit Community Cloud (Linux x86-64, Python 3.12 by
# default)? Resolves it for that target from binary wheels only, downloading nothing big.
# Usage: scripts/check_wheels.sh [python-version]   (default 3.12)
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-3.12}"
pip install --dry-run --ignore-installed --quiet --report - --only-binary=:all: \
    --python-version "$version" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --target "$(mktemp -d)" -r requirements.txt \
    | python -c "import json, sys; print('\n'.join(f\"{i['metadata']['name']}=={i['metadata']['version']}\" for i in json.load(sys.stdin)['install']))"
echo "every requirement has a wheel for CPython $version on Linux x86-64"
