"""`python -m mocapd_train --config config/train.toml [--resume] [--set key=value ...]`."""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from .config import ConfigError, load
from .data import DataError
from .train import Trainer, TrainError


def parse_value(text: str) -> object:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mocapd_train", description="Train mocapd's denoiser on a `mocapd data build` set.")
    ap.add_argument("--config", type=Path, default=Path("config/train.toml"), help="training configuration (TOML)")
    ap.add_argument("--resume", action="store_true", help="continue the run in out_dir exactly where its last checkpoint stands")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key, e.g. schedule.steps=2000")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop (with a checkpoint) after this many minutes")
    ap.add_argument("--json", action="store_true", help="print the run's report as JSON")
    a = ap.parse_args(argv)
    overrides = {}
    for item in a.set:
        if "=" not in item:
            ap.error(f"--set {item}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        overrides[key.strip()] = parse_value(value.strip())
    try:
        cfg = load(a.config, overrides)
        report = Trainer(cfg).run(a.resume, None if a.max_minutes is None else a.max_minutes * 60)
    except (ConfigError, DataError, TrainError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the last checkpoint stands; continue with --resume", file=sys.stderr)
        return 130
    if a.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"trained {report['start_step']} → {report['steps']} steps: {report['samples_per_s']:.1f} samples/s "
            f"({report['threads']} threads, {report['device']}, bf16 {report['bf16']}); loss {report['first_loss']:.4f} → "
            f"{report['last_loss']:.4f}; run in {report['out_dir']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
