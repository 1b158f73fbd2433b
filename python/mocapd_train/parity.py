"""The parity fixture: tiny checkpoints written by this package and the outputs its forward gives
on fixed inputs. `mocapd`'s Rust tests load the same checkpoints in candle and ONNX Runtime and
must reproduce these outputs (≤ 1e-4), so a checkpoint trained here runs the same there. It also
holds this package's forward kinematics of random feature frames (`fk.safetensors`), which Rust's
feature codec and SMPL-24 skeleton must reproduce: the trainer's joint losses and validation
measure the same skeleton the daemon sends.

    python -m mocapd_train.parity tests/fixtures/parity     (re-writes the fixture)
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from .checkpoint import save_checkpoint
from .losses import fk
from .model import Denoiser, ModelConfig

FRAMES = 16
# (name, config): the seed's layout (FiLM V1, ReLU, cross-attention only) and the new one
# (FiLM V2, tanh-GELU, frame-aligned conditioning), so both code paths stay covered.
VARIANTS = {
    "v1": ModelConfig(d_model=32, n_heads=2, n_blocks=2, frames=FRAMES, mlp_ratio=2),
    "v2-frame": ModelConfig(d_model=32, n_heads=2, n_blocks=2, frames=FRAMES, mlp_ratio=2, film="V2", activation="Gelu", frame_cond=True),
}


def inputs(seed: int = 5) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    pose = torch.rand(2, FRAMES, 17, 3, generator=g) * 2 - 1
    pose[..., 2] = torch.rand(2, FRAMES, 17, generator=g)  # some joints under the 0.3 threshold
    return {
        "pose": pose,
        "x_t": torch.randn(2, FRAMES, 151, generator=g),
        "t": torch.randint(0, 1000, (2, FRAMES), generator=g).float(),
    }


@torch.no_grad()
def outputs(model: Denoiser, io: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    model.eval()
    b = io["pose"].shape[0]
    cond = model(io["x_t"], io["t"], io["pose"], torch.zeros(b))
    null = model(io["x_t"], io["t"], io["pose"], torch.ones(b))
    return {"x0_cond": cond, "x0_null": null}


def fk_frames(seed: int = 7, n: int = 8) -> dict[str, torch.Tensor]:
    """Random feature frames [n, 151] (6D pairs far from orthonormal, a root, contacts) and
    their joints [n, 24, 3] by this package's forward kinematics."""
    g = torch.Generator().manual_seed(seed)
    raw = torch.randn(1, n, 151, generator=g)
    return {"raw": raw[0], "joints": fk(raw)[0]}


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    io = inputs()
    save_file({k: v.contiguous() for k, v in io.items()}, str(out / "inputs.safetensors"))
    save_file({k: v.contiguous() for k, v in fk_frames().items()}, str(out / "fk.safetensors"))
    for i, (name, cfg) in enumerate(VARIANTS.items()):
        torch.manual_seed(100 + i)
        model = Denoiser(cfg)
        # Default init leaves FiLM and positions small; randomise everything so every path counts.
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn_like(p) * 0.2)
        save_checkpoint(out / f"{name}.safetensors", model, [0.0] * 151, [1.0] * 151, "gravity-view")
        save_file({k: v.contiguous() for k, v in outputs(model, io).items()}, str(out / f"{name}.expected.safetensors"))


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/parity"))
