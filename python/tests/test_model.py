from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from conftest import ROOT
from mocapd_train.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from mocapd_train.model import Denoiser, ModelConfig
from mocapd_train.parity import VARIANTS, fk_frames, inputs, outputs

FIXTURE = ROOT / "tests" / "fixtures" / "parity"


def test_parity_fixture_is_what_this_model_computes() -> None:
    """The fixture the Rust side checks candle and ONNX Runtime against is this code's output."""
    io = inputs()
    committed = load_file(str(FIXTURE / "inputs.safetensors"))
    for k, v in io.items():
        assert torch.equal(v, committed[k]), k
    for name in VARIANTS:
        model, meta, _, _ = load_checkpoint(FIXTURE / f"{name}.safetensors")
        want = load_file(str(FIXTURE / f"{name}.expected.safetensors"))
        got = outputs(model, io)
        for k in want:
            assert (got[k] - want[k]).abs().max() < 1e-5, (name, k)
        assert meta["motion_contract"] == "gravity-view"
    fk = load_file(str(FIXTURE / "fk.safetensors"))
    for k, v in fk_frames().items():
        assert (v - fk[k]).abs().max() < 1e-6, k


def test_checkpoint_metadata_is_what_mocapd_reads(tmp_path: Path) -> None:
    cfg = ModelConfig.preset("tiny", 16)
    m = Denoiser(cfg)
    p = tmp_path / "c.safetensors"
    save_checkpoint(p, m, [0.0] * 151, [1.0] * 151, "gravity-view")
    with safe_open(str(p), framework="pt") as f:
        meta = f.metadata()
        keys = set(f.keys())
    assert meta["format"] == FORMAT
    conf = json.loads(meta["config"])
    # serde field names and enum spellings of mocapd::model::ModelConfig; no frame_cond key when off
    assert conf["film"] == "V1" and conf["activation"] == "Relu" and "frame_cond" not in conf
    assert {"pos", "input.weight", "encoder.null_tokens", "blocks.0.film_p.weight", "stats.mean"} <= keys
    assert "blocks.0.film_p.bias" not in keys and "frame.weight" not in keys


def test_condition_dropout_and_timestep_shapes() -> None:
    torch.manual_seed(0)
    m = Denoiser(ModelConfig.preset("tiny", 16)).eval()
    pose, x = torch.rand(2, 16, 17, 3), torch.randn(2, 16, 151)
    with torch.no_grad():
        tokens, pooled = m.encoder(pose, torch.tensor([0.0, 1.0]))
        full, _ = m.encoder(pose)
        null_t, null_p = m.encoder.null(2, 16)
        assert torch.allclose(tokens[0], full[0]) and torch.allclose(tokens[1], null_t[1]) and torch.allclose(pooled[1], null_p[1])
        # one t per clip is the same as that t on every frame
        a = m(x, torch.tensor([300, 20]), pose)
        b = m(x, torch.tensor([[300] * 16, [20] * 16]), pose)
        assert torch.allclose(a, b, atol=1e-5)
