from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT
from mocapd_train.config import ConfigError, TrainConfig, load


def test_shipped_config_is_the_default() -> None:
    cfg = load(ROOT / "config" / "train.toml")
    assert cfg == TrainConfig()
    m = cfg.model_config()
    assert (m.d_model, m.n_heads, m.n_blocks, m.frames, m.frame_cond) == (128, 4, 3, 150, True)


def write(tmp: Path, text: str) -> Path:
    p = tmp / "c.toml"
    p.write_text(text)
    return p


def test_unknown_and_missing_keys_are_errors(tmp_path: Path) -> None:
    text = (ROOT / "config" / "train.toml").read_text()
    with pytest.raises(ConfigError, match="unknown key.*bogus"):
        load(write(tmp_path, text + "\nbogus = 1\n"))
    with pytest.raises(ConfigError, match="missing key.*seed"):
        load(write(tmp_path, text.replace("seed = 17", "")))
    with pytest.raises(ConfigError, match="optim.kind `sgd`"):
        load(ROOT / "config" / "train.toml", {"optim.kind": "sgd"})
    with pytest.raises(ConfigError, match="loss.weighting"):
        load(ROOT / "config" / "train.toml", {"loss.weighting": "fancy"})


def test_overrides_and_lambda_ramp() -> None:
    cfg = load(ROOT / "config" / "train.toml", {"schedule.steps": 7, "loss.vel": {"to": 0.1, "from": 0.0, "ramp_steps": 10}})
    assert cfg.schedule.steps == 7
    assert cfg.loss.vel.at(5) == pytest.approx(0.05) and cfg.loss.vel.at(50) == pytest.approx(0.1)
