"""Shared fixtures: the repository root, the release `mocapd` binary (built by `tools/setup.sh`)
and a small real training set it builds (procedural motion, 2 virtual cameras)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))


@pytest.fixture(scope="session")
def mocapd() -> Path:
    exe = ROOT / "target" / "release" / "mocapd"
    if not exe.exists():
        pytest.fail(f"{exe} not found: run tools/setup.sh (it builds the release binary) first")
    return exe


@pytest.fixture(scope="session")
def dataset(mocapd: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("data") / "set"
    subprocess.run(
        [str(mocapd), "data", "build", "--raw", str(out.parent / "no-raw"), "--out", str(out),
         "--procedural-minutes", "2", "--cameras", "2", "--seed", "3"],  # fmt: skip
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return out
