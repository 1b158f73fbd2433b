#!/usr/bin/env bash
# Sets up a fresh Debian machine for mocapd: system packages, the ONNX Runtime library, the
# training package's Python environment, a release build.
# Idempotent: re-running skips what is already in place. Fetches only from Debian and PyPI (and
# the clippy/rustfmt components through rustup when they are missing).
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.31.1
ORT_WHEEL=onnxruntime-${ORT_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
ORT_DIR=.local/onnxruntime
ORT_LIB=$ORT_DIR/libonnxruntime.so.${ORT_VERSION}

# Build: OpenCV bindings (libclang), video decoding. Tests: GStreamer RTSP server, ffmpeg.
APT_PACKAGES=(libopencv-dev clang libclang-dev pkg-config ffmpeg
  python3 python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav)

# pip fetches ONNX Runtime's wheel and the motion-data packages; Debian's python3 may lack it.
python3 -m pip --version >/dev/null 2>&1 || APT_PACKAGES+=(python3-pip)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Tests: the strict VMC validator (tests/it/support/vmc_validate_recv.py) parses with python-osc.
# Installed into the git-ignored .local/python, never into the system's Python.
PYTHON_OSC_VERSION=1.10.2
if [ ! -d .local/python/pythonosc ]; then
  echo "setup: installing python-osc ${PYTHON_OSC_VERSION} from PyPI into .local/python"
  python3 -m pip install -q --no-deps --target .local/python "python-osc==${PYTHON_OSC_VERSION}"
fi

# Training (python -m mocapd_train) and its tests: PyTorch and friends, pinned in
# python/requirements.txt, in the git-ignored virtual environment .local/venv.
VENV=.local/venv
if ! cmp -s python/requirements.txt "$VENV/.requirements" 2>/dev/null; then
  echo "setup: installing the training package's requirements into $VENV (PyTorch with its CUDA libraries, about 5.5 GB)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r python/requirements.txt
  cp python/requirements.txt "$VENV/.requirements"
fi

if [ ! -f "$ORT_LIB" ]; then
  echo "setup: fetching ONNX Runtime ${ORT_VERSION} from PyPI"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_28_x86_64 "onnxruntime==${ORT_VERSION}" -d "$tmp"
  echo "${ORT_WHEEL_SHA256}  $tmp/${ORT_WHEEL}" | sha256sum -c --quiet -
  mkdir -p "$ORT_DIR"
  python3 - "$tmp/${ORT_WHEEL}" "$ORT_DIR" <<'PY'
import sys, zipfile, os
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        if name.startswith("onnxruntime/capi/libonnxruntime.so") or name == "onnxruntime/capi/libonnxruntime_providers_shared.so":
            with z.open(name) as src, open(os.path.join(out, os.path.basename(name)), "wb") as dst:
                dst.write(src.read())
PY
  ln -sf "libonnxruntime.so.${ORT_VERSION}" "$ORT_DIR/libonnxruntime.so"
fi

# tools/lint.sh needs clippy and rustfmt; rustup's minimal profile lacks them.
components=()
cargo clippy --version >/dev/null 2>&1 || components+=(clippy)
cargo fmt --version >/dev/null 2>&1 || components+=(rustfmt)
if [ ${#components[@]} -gt 0 ]; then
  if command -v rustup >/dev/null; then
    echo "setup: adding rustup components ${components[*]}"
    rustup component add "${components[@]}"
  else
    echo "setup: ${components[*]} missing and no rustup to add them: install them with your Rust toolchain" >&2
    exit 1
  fi
fi

(cd models && sha256sum -c --quiet SHA256SUMS)
cargo build --release --locked
echo "setup: done ($ORT_LIB)"
