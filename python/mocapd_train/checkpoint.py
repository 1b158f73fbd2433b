"""The `mocapd.denoiser/1` checkpoint that `mocapd` loads (`src/model/checkpoint.rs`): the
model's f32 tensors under their state-dict keys, the train mean/std as `stats.mean` /
`stats.std`, and metadata `format`, `config` (the model config as JSON) and `motion_contract`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from .model import Denoiser, ModelConfig

FORMAT = "mocapd.denoiser/1"
CONTRACT_KEY = "motion_contract"


def save_checkpoint(path: Path, model: Denoiser, mean: list[float], std: list[float], contract: str | None) -> None:
    """Writes atomically (a `.tmp` file renamed over `path`)."""
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors["stats.mean"] = torch.tensor(mean, dtype=torch.float32)
    tensors["stats.std"] = torch.tensor(std, dtype=torch.float32)
    meta = {"format": FORMAT, "config": json.dumps(model.cfg.to_json_dict())}
    if contract is not None:
        meta[CONTRACT_KEY] = contract
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> tuple[Denoiser, dict[str, str], list[float], list[float]]:
    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata() or {})
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format `{meta.get('format')}`, expected `{FORMAT}`")
    cfg = ModelConfig(**json.loads(meta["config"]))
    tensors = load_file(str(path))
    mean, std = tensors.pop("stats.mean").tolist(), tensors.pop("stats.std").tolist()
    model = Denoiser(cfg)
    model.load_state_dict(tensors)
    return model, meta, mean, std
