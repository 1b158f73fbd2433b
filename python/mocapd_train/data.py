"""The shards of `mocapd data build`, read in place: each shard's `motion` [N, 150, 151] and
`pose2d` [N, 150, 17, 3] f32 tensors are memory-mapped (a full CMU build is 11 GB; nothing is
copied into RAM up front), and batches are gathered by index. The manifest (`manifest.json`)
gives the clip length, the feature layout, the motion contract and the train mean/std."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATASET_FORMAT = "mocapd.dataset"
_DTYPES = {"F32": np.float32, "I64": np.int64, "U8": np.uint8}


class DataError(Exception):
    pass


def _tensors(path: Path) -> dict[str, np.ndarray]:
    """Memory-maps every tensor of a safetensors file."""
    with path.open("rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise DataError(f"{path}: tensor `{name}` has dtype {info['dtype']}, not one mocapd writes")
        start, end = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape)) if shape else 1
        if (end - start) != count * np.dtype(dtype).itemsize:
            raise DataError(f"{path}: tensor `{name}` size does not match its shape {shape}")
        out[name] = np.memmap(path, dtype=dtype, mode="r", offset=8 + n + start, shape=shape)
    return out


@dataclass
class Manifest:
    dir: Path
    raw: dict

    @property
    def contract(self) -> str:
        return str(self.raw.get("contract", "first-frame"))

    @property
    def clip_len(self) -> int:
        return int(self.raw["clip_len"])

    @property
    def feature_dim(self) -> int:
        return int(self.raw["feature_dim"])

    @property
    def mean(self) -> list[float]:
        return list(self.raw["normalization"]["target_mean"])

    @property
    def std(self) -> list[float]:
        return list(self.raw["normalization"]["target_std"])

    def shards(self, split: str) -> list[Path]:
        return [self.dir / s["file"] for s in self.raw["shards"] if s["split"] == split]


def read_manifest(data_dir: Path) -> Manifest:
    path = data_dir / "manifest.json"
    if not path.exists():
        raise DataError(f"{path} not found: build the training set first (`mocapd data build --bvh-dir DIR --out {data_dir}`)")
    raw = json.loads(path.read_text())
    if raw.get("format") != DATASET_FORMAT:
        raise DataError(f"{path}: format `{raw.get('format')}`, expected `{DATASET_FORMAT}`")
    return Manifest(data_dir, raw)


class Split:
    """All samples of one split; `batch(idx)` returns (motion [B, S, 151], pose [B, S, 17, 3])."""

    def __init__(self, manifest: Manifest, split: str) -> None:
        self.name = split
        self.motion: list[np.ndarray] = []
        self.pose: list[np.ndarray] = []
        self.takes: list[np.ndarray] = []
        for path in manifest.shards(split):
            t = _tensors(path)
            if "motion" not in t or "pose2d" not in t:
                raise DataError(f"{path}: no `motion` / `pose2d` tensor")
            m, p = t["motion"], t["pose2d"]
            if m.ndim != 3 or m.shape[1:] != (manifest.clip_len, manifest.feature_dim) or p.shape[:2] != m.shape[:2]:
                raise DataError(f"{path}: motion {m.shape} / pose2d {p.shape} do not match the manifest")
            self.motion.append(m)
            self.pose.append(p)
            self.takes.append(np.asarray(t["take"]) if "take" in t else np.full(m.shape[0], -1))
        sizes = [m.shape[0] for m in self.motion]
        self.n = int(sum(sizes))
        if self.n == 0:
            raise DataError(f"{manifest.dir}: no {split} samples")
        self._starts = np.cumsum([0, *sizes])

    def _locate(self, i: int) -> tuple[int, int]:
        s = int(np.searchsorted(self._starts, i, side="right") - 1)
        return s, i - int(self._starts[s])

    def take(self, i: int) -> int:
        s, k = self._locate(i)
        return int(self.takes[s][k])

    def batch(self, idx: list[int], start: int = 0, length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        end = None if length is None else start + length
        ms, ps = [], []
        for i in idx:
            s, k = self._locate(int(i))
            ms.append(self.motion[s][k, start:end])
            ps.append(self.pose[s][k, start:end])
        return np.stack(ms).astype(np.float32), np.stack(ps).astype(np.float32)


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """Sample order of one epoch: a seeded shuffle, so batch k is a function of (seed, k)."""
    rng = np.random.default_rng([seed, epoch])
    return rng.permutation(n)
