"""Compares runs by their validation curves (the ablations: weightings, PTSS, conditioning,
capacity): a Markdown table and a plot of validation MPJPE against samples seen. A run folder
that holds `test-eval.json` (`mocapd eval --json` of its final checkpoint on the test split, as
`tools/ablations.sh` writes it) adds that score, the ablations' criterion, to the table.

    python -m mocapd_train.compare runs/a runs/b ... [--target-mm 120] [--plot curves.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch


def summarise(run: Path, target_mm: float) -> dict[str, Any]:
    log = run / "log.jsonl"
    if not log.exists():
        raise FileNotFoundError(f"{log} not found: is {run} a training run folder?")
    records = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
    val = [r for r in records if "val_mpjpe_mm" in r]
    state = run / "train-state.pt"
    cfg = torch.load(state, map_location="cpu", weights_only=False)["config"] if state.exists() else {}
    batch = cfg.get("schedule", {}).get("batch_size", 1)
    reached = next((r["step"] * batch for r in val if r["val_mpjpe_mm"] <= target_mm), None)
    best = min(val, key=lambda r: r["val_mpjpe_mm"]) if val else None
    last = val[-1] if val else None
    return {
        "run": run.name, "batch": batch, "val": val, "samples": (records[-1]["step"] * batch) if records else 0,
        "hours": (records[-1]["time"] / 3600) if records else 0.0, "last": last, "best": best, "reached": reached,
        "test": eval_scores(run / "test-eval.json"),
    }  # fmt: skip


def eval_scores(path: Path) -> dict[str, dict[str, float]]:
    """The `all` row of a `mocapd eval --json` report, by method (`1-step`, `4-step`, ...); empty
    when the file does not exist."""
    if not path.exists():
        return {}
    report = json.loads(path.read_text())
    row = next((r for r in report["rows"] if r["category"] == "all"), None)
    if row is None:
        raise ValueError(f"{path}: no `all` row; is it `mocapd eval --json` output?")
    return {s["method"]: s for s in row["scores"]}


def table(rows: list[dict[str, Any]], target_mm: float) -> str:
    out = [
        f"| run | samples | hours | val MPJPE 4-step (mm) | PA-MPJPE (mm) | 1-step (mm) | best (mm) @ samples | samples to ≤ {target_mm:g} mm "
        "| test MPJPE / PA 4-step (mm) | test 1-step (mm) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for r in rows:
        last, best = r["last"] or {}, r["best"] or {}

        def f(d: dict[str, Any], k: str) -> str:
            return f"{d[k]:.1f}" if k in d else "–"

        reached = f"{r['reached']:,}" if r["reached"] is not None else "not reached"
        t4, t1 = r["test"].get("4-step", {}), r["test"].get("1-step", {})
        test4 = f"{f(t4, 'mpjpe_mm')} / {f(t4, 'pa_mpjpe_mm')}" if t4 else "–"
        out.append(
            f"| {r['run']} | {r['samples']:,} | {r['hours']:.2f} | {f(last, 'val_mpjpe_mm')} | {f(last, 'val_pa_mpjpe_mm')} | "
            f"{f(last, 'val_mpjpe_1step_mm')} | {f(best, 'val_mpjpe_mm')} @ {best.get('step', 0) * r['batch']:,} | {reached} | "
            f"{test4} | {f(t1, 'mpjpe_mm')} |"
        )
    return "\n".join(out) + "\n"


def plot(path: Path, rows: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for r in rows:
        pts = [(v["step"] * r["batch"], v["val_mpjpe_mm"]) for v in r["val"]]
        if pts:
            ax.plot(*zip(*pts), "-o", ms=3, label=r["run"])
    floor = [v.get("val_mean_pose_mpjpe_mm") for r in rows for v in r["val"] if "val_mean_pose_mpjpe_mm" in v]
    if floor:
        ax.axhline(floor[0], color="gray", ls="--", lw=1, label="constant mean pose")
    ax.set_xlabel("training samples seen")
    ax.set_ylabel("validation MPJPE, 4-step DDIM (mm)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mocapd_train.compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--target-mm", type=float, default=120.0, help="the MPJPE whose first reaching the table reports")
    ap.add_argument("--plot", type=Path, help="also draw the curves into this PNG")
    a = ap.parse_args(argv)
    try:
        rows = [summarise(r, a.target_mm) for r in a.runs]
    except (FileNotFoundError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(table(rows, a.target_mm), end="")
    if a.plot:
        plot(a.plot, rows)
        print(f"wrote {a.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
