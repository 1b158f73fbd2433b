"""`TrainConfig`: every knob of a training run, read from a TOML file (`config/train.toml`).
Every key is required and unknown keys are an error, so a typo never trains the wrong model."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diffusion import WEIGHTINGS
from .model import ModelConfig


class ConfigError(Exception):
    pass


@dataclass
class ModelSection:
    preset: str = "small"
    film: str = "v1"
    frames: int = 150
    cond_drop: float = 0.25
    frame_cond: bool = True


@dataclass
class OptimSection:
    kind: str = "adamw"
    lr: float = 3e-4
    weight_decay: float = 0.02
    warmup_steps: int = 500
    # Cosine decay of the learning rate to `lr_final` × lr at the last step (false = constant).
    cosine: bool = True
    lr_final: float = 0.05
    grad_clip: float = 1.0


@dataclass
class Lambda:
    to: float
    # With `from` and `ramp_steps` > 0, λ ramps linearly from `from` to `to`.
    from_: float | None = None
    ramp_steps: int = 0

    def at(self, step: int) -> float:
        if self.from_ is not None and self.ramp_steps > 0:
            return self.from_ + (self.to - self.from_) * min(step / self.ramp_steps, 1.0)
        return self.to


@dataclass
class LossSection:
    weighting: str = "constant"
    gamma: float = 5.0
    normalize: bool = False
    floor: float = 0.0
    p_from: float = 0.2
    p_to: float = 0.5
    p_steps: int = 10_000
    joints: Lambda = field(default_factory=lambda: Lambda(0.1))
    pose: Lambda = field(default_factory=lambda: Lambda(10.0))
    vel: Lambda = field(default_factory=lambda: Lambda(0.02))
    foot: Lambda = field(default_factory=lambda: Lambda(0.05))


@dataclass
class ScheduleSection:
    batch_size: int = 32
    steps: int = 40_000
    val_every: int = 1000
    val_batches: int = 8
    val_clips: int = 256
    val_ddim_steps: int = 4
    checkpoint_every: int = 250
    log_every: int = 25
    progress: bool = True


@dataclass
class TrainConfig:
    data_dir: Path = Path("data/train")
    out_dir: Path = Path("runs/default")
    seed: int = 17
    # CPU threads; 0 = every core this process may use.
    threads: int = 0
    # "auto" (CUDA when present, else CPU), "cpu" or "cuda".
    device: str = "auto"
    # bf16 autocast for the network (FK and the losses stay fp32).
    bf16: bool = False
    model: ModelSection = field(default_factory=ModelSection)
    optim: OptimSection = field(default_factory=OptimSection)
    loss: LossSection = field(default_factory=LossSection)
    schedule: ScheduleSection = field(default_factory=ScheduleSection)

    def model_config(self) -> ModelConfig:
        m = self.model
        cfg = ModelConfig.preset(m.preset, m.frames)
        if m.film not in ("v1", "v2"):
            raise ConfigError(f"model.film `{m.film}`: expected v1 or v2")
        cfg.film = m.film.upper()
        cfg.cond_drop = m.cond_drop
        cfg.frame_cond = m.frame_cond
        cfg.validate()
        return cfg

    def validate(self) -> None:
        s, o, lo = self.schedule, self.optim, self.loss
        if s.batch_size <= 0 or s.steps <= 0:
            raise ConfigError("schedule.batch_size and schedule.steps must be > 0")
        if not o.lr > 0:
            raise ConfigError("optim.lr must be > 0")
        if o.kind not in ("adan", "adamw"):
            raise ConfigError(f"optim.kind `{o.kind}`: expected adan or adamw")
        if lo.weighting not in WEIGHTINGS:
            raise ConfigError(f"loss.weighting `{lo.weighting}`: expected one of {', '.join(WEIGHTINGS)}")
        if not (0 <= lo.p_from <= 1 and 0 <= lo.p_to <= 1):
            raise ConfigError("loss.p_from / p_to must be in [0, 1]")
        if lo.floor < 0 or lo.gamma <= 0:
            raise ConfigError("loss.floor must be ≥ 0 and loss.gamma > 0")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"device `{self.device}`: expected auto, cpu or cuda")
        try:
            self.model_config()
        except ValueError as e:
            raise ConfigError(f"model: {e}") from e

    def to_dict(self) -> dict[str, Any]:
        return json_ready(dataclasses.asdict(self))


def json_ready(x: Any) -> Any:
    if isinstance(x, dict):
        return {("from" if k == "from_" else k): json_ready(v) for k, v in x.items() if v is not None}
    if isinstance(x, Path):
        return str(x)
    return x


def _build(cls: type, raw: dict[str, Any], where: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    keys = {("from_" if k == "from" else k): v for k, v in raw.items()}
    unknown = sorted(set(keys) - set(fields))
    if unknown:
        raise ConfigError(f"{where or 'config'}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(n for n, f in fields.items() if n not in keys and cls is not Lambda)
    if missing:
        raise ConfigError(f"{where or 'config'}: missing key(s) {', '.join(missing)}")
    out: dict[str, Any] = {}
    for name, value in keys.items():
        ty = fields[name].type
        sub = {"ModelSection": ModelSection, "OptimSection": OptimSection, "LossSection": LossSection,
               "ScheduleSection": ScheduleSection, "Lambda": Lambda}.get(str(ty))  # fmt: skip
        if sub is not None:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}.{name}: expected a table")
            out[name] = _build(sub, value, f"{where}.{name}" if where else name)
        elif str(ty) == "Path":
            out[name] = Path(value)
        else:
            out[name] = value
    if cls is Lambda and "to" not in out:
        raise ConfigError(f"{where}: missing key `to`")
    return cls(**out)


def load(path: Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Reads and validates `path`; `overrides` ("schedule.steps" → value) are applied first."""
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from e
    for key, value in (overrides or {}).items():
        table = raw
        *parents, last = key.split(".")
        for p in parents:
            table = table.setdefault(p, {})
        table[last] = value
    cfg = _build(TrainConfig, raw, "")
    cfg.validate()
    return cfg
