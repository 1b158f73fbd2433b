"""What a run leaves beside its checkpoint: `log.jsonl` (one record per line: train averages
since the previous line, validation metrics when measured), `loss.png` and `model-card.md`;
plus the progress line on the terminal."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch


def read_log(path: Path, upto: int) -> list[dict[str, Any]]:
    """Records with step ≤ `upto` (what a resumed run keeps); unreadable lines are dropped."""
    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if r.get("step", upto + 1) <= upto:
                out.append(r)
    return out


def write_log(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def append_log(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")


def plot_losses(path: Path, records: list[dict[str, Any]], title: str) -> None:
    """Train loss parts and validation loss vs step (log y) and validation MPJPE (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    steps = [r["step"] for r in records]
    for key in ("loss", "x0", "vel", "joints", "pose", "foot"):
        ys = [r.get(key) for r in records]
        if any(y and y > 0 for y in ys):
            a.plot(steps, ys, label=f"train {key}", lw=1)
    val = [r for r in records if "val_loss" in r]
    if val:
        a.plot([r["step"] for r in val], [r["val_loss"] for r in val], "k-o", ms=3, label="val loss")
        for key, style in (("val_mpjpe_mm", "b-o"), ("val_pa_mpjpe_mm", "g-o"), ("val_mpjpe_1step_mm", "r--")):
            pts = [(r["step"], r[key]) for r in val if key in r]
            if pts:
                b.plot(*zip(*pts), style, ms=3, label=key.removeprefix("val_"))
        b.set_xlabel("step")
        b.set_ylabel("validation error (mm)")
        b.legend()
        b.grid(alpha=0.3)
    a.set_yscale("log")
    a.set_xlabel("step")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)


def hardware(device: torch.device, threads: int) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA), PyTorch {torch.__version__}"
    cpu = platform.processor() or "CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {threads} thread(s), PyTorch {torch.__version__}"


def write_model_card(path: Path, info: dict[str, Any]) -> None:
    m = info["manifest"]
    cfg = info["config"]
    lines = [
        f"# Model card: {info['name']}",
        "",
        "ViMo-style diffusion denoiser that lifts COCO-17 2D pose windows (150 frames, 30 fps) to SMPL-24",
        "motion (6D rotations, foot contacts, root), trained by `python -m mocapd_train` (PyTorch) and run",
        "by `mocapd` in candle or ONNX Runtime.",
        "",
        "## Model",
        f"- config: `{json.dumps(info['model_config'])}`",
        f"- parameters: {info['params']:,}",
        f"- motion contract: `{m.contract}`",
        "",
        "## Data",
        f"- data set: `{cfg['data_dir']}` (clips of {m.clip_len} frames; train {m.raw['train']['samples']:,} samples,"
        f" val {m.raw['val']['samples']:,}, test {m.raw.get('test', {}).get('samples', 0):,})",
        "- minutes by source (all splits):",
    ]
    for s in m.raw.get("sources", []):
        lines.append(f"  - {s['name']} ({s['licence']}): {s['minutes']:.2f} min, {s['takes']} takes")
    if any("cmu" in str(s.get("name", "")).lower() for s in m.raw.get("sources", [])):
        lines += [
            "",
            "*The data used in this project was obtained from mocap.cs.cmu.edu. The database was created with",
            "funding from NSF EIA-0196217.*",
        ]
    last = info.get("last_val") or {}
    lines += [
        "",
        "## Training",
        f"- steps: {info['step']:,} × batch {cfg['schedule']['batch_size']} = **{info['step'] * cfg['schedule']['batch_size']:,} samples seen**",
        f"- wall time: {info['elapsed_s'] / 3600:.2f} h ({info['train_s'] / 3600:.2f} h in optimiser steps),"
        f" {info['samples_per_s']:.1f} samples/s",
        f"- hardware: {info['hardware']}",
        f"- loss: weighting `{cfg['loss']['weighting']}` (γ {cfg['loss']['gamma']}, floor {cfg['loss']['floor']}),"
        f" PTSS p {cfg['loss']['p_from']} → {cfg['loss']['p_to']}; optimiser {cfg['optim']['kind']} lr {cfg['optim']['lr']}",
        "",
        "## Validation (held-out subjects)",
    ]
    if last:
        lines.append(f"- at step {last['step']:,}: loss {last['val_loss']:.4f}")
        for key, name in (("val_mpjpe_mm", "MPJPE, 4-step DDIM"), ("val_pa_mpjpe_mm", "PA-MPJPE, 4-step DDIM"),
                          ("val_mpjpe_1step_mm", "MPJPE, 1-step x0"), ("val_mean_pose_mpjpe_mm", "MPJPE of the mean pose")):  # fmt: skip
            if key in last:
                lines.append(f"- {name}: {last[key]:.1f} mm")
    else:
        lines.append("- not validated yet")
    lines += ["", "Full-split test metrics: `mocapd eval` (see the README's Accuracy section).", ""]
    path.write_text("\n".join(lines))


class Progress:
    """A one-line progress bar on a terminal; plain lines every `every` s otherwise."""

    def __init__(self, total: int, start: int, enabled: bool, every: float = 30.0) -> None:
        self.total, self.start, self.enabled, self.every = total, start, enabled, every
        self.t0 = time.monotonic()
        self.last = 0.0
        self.tty = sys.stderr.isatty()

    def update(self, step: int, msg: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not self.tty and now - self.last < self.every and step != self.total:
            return
        self.last = now
        done = step - self.start
        eta = (now - self.t0) / max(done, 1) * (self.total - step)
        frac = step / self.total
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        line = f"{bar} {step}/{self.total} eta {eta / 60:.0f} min | {msg}"
        sys.stderr.write(("\r" + line[:200]) if self.tty else line + "\n")
        sys.stderr.flush()

    def println(self, msg: str) -> None:
        if self.enabled:
            sys.stderr.write(("\n" if self.tty else "") + msg + "\n")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled and self.tty:
            sys.stderr.write("\n")
