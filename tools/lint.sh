#!/usr/bin/env bash
# Hygiene checks that run before the tests (README "Set up and run"; CI runs them in .ci/run):
# formatting, clippy lints as errors, rustdoc intra-doc links, and no import cycles between the
# crate's top-level modules. Run after tools/setup.sh (system packages, clippy and rustfmt, and a
# release build whose build-script outputs clippy and rustdoc reuse). Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in tools/

step() { echo "lint: $*"; }

step "formatting matches rustfmt.toml (cargo fmt --check)"
cargo fmt --check

step "no import cycles between top-level modules of src/ (tools/check_layers.py, and its own tests)"
python3 tools/test_check_layers.py >/dev/null
python3 tools/check_layers.py

step "no clippy warnings in the library, binary, tests, benches and examples"
cargo clippy --release --locked --all-targets -- -D warnings

step "every intra-doc link in the library's docs resolves, none to a private item"
RUSTDOCFLAGS="-D rustdoc::broken_intra_doc_links -D rustdoc::private_intra_doc_links" \
  cargo doc --release --locked --no-deps --lib

step "all checks passed"
