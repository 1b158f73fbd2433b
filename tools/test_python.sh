#!/usr/bin/env bash
# The training package's tests (pytest), in the environment tools/setup.sh makes. They build a
# small real data set with target/release/mocapd, so run them after the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .local/venv/bin/python -m pytest -q -p no:cacheprovider python/tests "$@"
