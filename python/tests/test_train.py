"""The trainer end to end on a real (small) `mocapd data build` set: it learns, it resumes
exactly, it never overwrites a run, and `mocapd` loads and runs the checkpoint it writes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import ROOT
from mocapd_train.config import load
from mocapd_train.train import Trainer, TrainError


def tiny(dataset: Path, out: Path, **extra: object) -> object:
    o = {
        "data_dir": str(dataset), "out_dir": str(out), "threads": 2, "model.preset": "tiny", "schedule.batch_size": 4,
        "schedule.steps": 6, "schedule.val_every": 3, "schedule.val_batches": 1, "schedule.val_clips": 4,
        "schedule.checkpoint_every": 3, "schedule.log_every": 1, "schedule.progress": False, "optim.warmup_steps": 2,
    }  # fmt: skip
    o.update(extra)
    return load(ROOT / "config" / "train.toml", o)


def test_trains_resumes_exactly_and_protects_runs(dataset: Path, tmp_path: Path) -> None:
    straight = Trainer(tiny(dataset, tmp_path / "a")).run(resume=False)  # type: ignore[arg-type]
    assert straight["steps"] == 6 and straight["samples_per_s"] > 0
    Trainer(tiny(dataset, tmp_path / "b")).run(resume=False, stop_at=3)  # type: ignore[arg-type]
    assert json.loads((tmp_path / "b" / "log.jsonl").read_text().splitlines()[-1])["step"] == 3
    Trainer(tiny(dataset, tmp_path / "b")).run(resume=True)  # type: ignore[arg-type]
    a = load_file(str(tmp_path / "a" / "checkpoint.safetensors"))
    b = load_file(str(tmp_path / "b" / "checkpoint.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k
    la = [json.loads(x) for x in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    lb = [json.loads(x) for x in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in la] == [r["step"] for r in lb] == [1, 2, 3, 4, 5, 6]
    assert la[-1]["loss"] == pytest.approx(lb[-1]["loss"], rel=1e-5)
    assert "val_mpjpe_mm" in la[2] and "val_pa_mpjpe_mm" in la[-1]
    for f in ("loss.png", "model-card.md", "train-state.pt"):
        assert (tmp_path / "a" / f).stat().st_size > 0
    assert "samples seen" in (tmp_path / "a" / "model-card.md").read_text()
    with pytest.raises(TrainError, match="already holds a run"):
        Trainer(tiny(dataset, tmp_path / "a")).run(resume=False)  # type: ignore[arg-type]


def test_validation_loss_falls_on_real_data(dataset: Path, tmp_path: Path) -> None:
    cfg = tiny(dataset, tmp_path / "c", **{"schedule.steps": 60, "schedule.val_every": 0, "schedule.checkpoint_every": 0,
                                            "schedule.val_batches": 4, "optim.lr": 2e-3})  # fmt: skip
    tr = Trainer(cfg)  # type: ignore[arg-type]
    before = tr.validate(0)
    tr.run(resume=False)
    after = tr.validate(60)
    assert after["val_loss"] < 0.8 * before["val_loss"], (before, after)
    assert after["val_mpjpe_mm"] < before["val_mpjpe_mm"], (before, after)


def test_mocapd_lifts_with_the_checkpoint(dataset: Path, mocapd: Path, tmp_path: Path) -> None:
    Trainer(tiny(dataset, tmp_path / "d", **{"schedule.steps": 2})).run(resume=False)  # type: ignore[arg-type]
    ck = tmp_path / "d" / "checkpoint.safetensors"
    kp = tmp_path / "demo.jsonl"
    subprocess.run([str(mocapd), "keypoints", str(ROOT / "assets" / "demo.mp4"), "--out", str(kp)], check=True, capture_output=True, cwd=ROOT)
    out = tmp_path / "lifted.jsonl"
    for engine in ("candle", "onnxruntime"):
        r = subprocess.run(
            [str(mocapd), "lift", str(kp), "--checkpoint", str(ck), "--out", str(out), "--steps", "2", "--engine", engine],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        lines = out.read_text().splitlines()
        assert len(lines) > 200 and json.loads(lines[0])["format"].startswith("mocapd.motion/")
        out.unlink()


def test_bad_data_dir_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="mocapd data build"):
        Trainer(load(ROOT / "config" / "train.toml", {"data_dir": str(tmp_path / "nope")}))


def test_compare_reads_runs_and_their_test_scores(dataset: Path, mocapd: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mocapd_train.compare import main as compare

    run = tmp_path / "e"
    Trainer(tiny(dataset, run, **{"schedule.steps": 3})).run(resume=False)  # type: ignore[arg-type]
    assert compare([str(run), "--plot", str(tmp_path / "c.png"), "--target-mm", "10000"]) == 0
    assert (tmp_path / "c.png").stat().st_size > 0
    assert compare([str(tmp_path / "missing")]) == 2
    # An eval report, as tools/ablations.sh writes it (this small set has no test split: val), joins the table.
    r = subprocess.run(
        [str(mocapd), "eval", "--checkpoint", str(run / "checkpoint.safetensors"), "--data", str(dataset),
         "--split", "val", "--steps", "1,4", "--views", "one", "--nn-library", "0", "--json"],  # fmt: skip
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (run / "test-eval.json").write_text(r.stdout)
    four = next(s for s in json.loads(r.stdout)["rows"][0]["scores"] if s["method"] == "4-step")
    capsys.readouterr()
    assert compare([str(run)]) == 0
    assert f"| {four['mpjpe_mm']:.1f} / {four['pa_mpjpe_mm']:.1f} |" in capsys.readouterr().out
    (run / "test-eval.json").write_text("{}")
    assert compare([str(run)]) == 2
