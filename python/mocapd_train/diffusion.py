"""Diffusion pieces of training and validation, as `mocapd::diffusion` and `mocapd::sampler`
define them: the linear β schedule (1e-4 → 0.02, T = 1000, 0-based t), PTSS timesteps (ViMo:
per clip, with probability p every frame draws its own t), the loss weightings w_t (constant,
SNR, Min-SNR-γ, ViMo's sqrt-decay averaging, each with an optional floor that keeps the
high-noise steps few-step sampling reads the 2D at) and deterministic DDIM (η = 0)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

WEIGHTINGS = ("constant", "snr", "min_snr", "sqrt_decay_avg")


class NoiseSchedule:
    def __init__(self, steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> None:
        i = torch.arange(steps, dtype=torch.float64)
        self.betas = beta_start + (beta_end - beta_start) * i / max(steps - 1, 1)
        self.alpha_bar = torch.cumprod(1.0 - self.betas, dim=0)
        self.steps = steps

    def snr(self) -> Tensor:
        return self.alpha_bar / (1.0 - self.alpha_bar)

    def q_sample(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε with t [B] or [B, S] (long)."""
        ab = self.alpha_bar.to(x0.device)[t].to(x0.dtype)
        ab = ab[:, None, None] if t.dim() == 1 else ab[..., None]
        return ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise

    def ddim_timesteps(self, n: int) -> list[int]:
        """`n` descending steps from T − 1 to 0, evenly spaced and rounded (the Rust sampler's)."""
        last = self.steps - 1
        n = max(1, min(n, last + 1))
        if n == 1:
            return [last]
        out: list[int] = []
        for i in range(n):
            v = int(round_half_away(last * (n - 1 - i) / (n - 1)))
            if not out or out[-1] != v:
                out.append(v)
        return out


def round_half_away(x: float) -> float:
    """Rust's f64::round (half away from zero), not Python's banker's rounding."""
    return float(int(x + 0.5)) if x >= 0 else -float(int(-x + 0.5))


def p_at(p_from: float, p_to: float, p_steps: int, step: int) -> float:
    """PTSS probability at a training step: linear `p_from` → `p_to` over `p_steps`, then held."""
    f = 1.0 if p_steps == 0 else min(step / p_steps, 1.0)
    return min(max(p_from + (p_to - p_from) * f, 0.0), 1.0)


def ptss(b: int, s: int, p: float, steps: int, gen: torch.Generator) -> Tensor:
    """[B, S] long timesteps: a clip draws per-frame t with probability p, else one t for all."""
    per_frame = torch.rand(b, generator=gen) < p
    shared = torch.randint(0, steps, (b, 1), generator=gen).expand(b, s)
    indep = torch.randint(0, steps, (b, s), generator=gen)
    return torch.where(per_frame[:, None], indep, shared)


@dataclass(frozen=True)
class Weighting:
    kind: str = "sqrt_decay_avg"
    gamma: float = 1.0
    normalize: bool = False
    floor: float = 0.0

    def table(self, sched: NoiseSchedule) -> Tensor:
        """w_t for every t as float64 [T]."""
        snr = sched.snr()
        t = torch.arange(sched.steps, dtype=torch.float64)
        if self.kind == "constant":
            w = torch.ones_like(snr)
        elif self.kind == "snr":
            w = snr
        elif self.kind == "min_snr":
            w = snr.clamp(max=self.gamma)
        elif self.kind == "sqrt_decay_avg":
            w = 0.5 * (snr.clamp(max=self.gamma) + (1.0 - t / sched.steps).sqrt())
        else:
            raise ValueError(f"loss.weighting `{self.kind}`: expected one of {', '.join(WEIGHTINGS)}")
        return w.clamp(min=self.floor)

    def weights(self, table: Tensor, t: Tensor) -> Tensor:
        w = table[t].float()
        if self.normalize and w.numel() > 0:
            mean = w.mean()
            if mean > 0:
                w = w / mean
        return w


@torch.no_grad()
def ddim_sample(x0_fn: Callable[[Tensor, Tensor], Tensor], sched: NoiseSchedule, x_init: Tensor, steps: int) -> Tensor:
    """Deterministic DDIM from x_init (pure noise at t = T − 1); `steps` = 1 is the model's own
    one-step x0 estimate."""
    ts = sched.ddim_timesteps(steps)
    ab = sched.alpha_bar
    x = x_init
    x0 = x_init
    for i, t in enumerate(ts):
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        x0 = x0_fn(x, tt)
        if i + 1 == len(ts):
            break
        a_t, a_p = float(ab[t]), float(ab[ts[i + 1]])
        c_xt = (1.0 - a_p) ** 0.5 / (1.0 - a_t) ** 0.5
        c_x0 = a_p**0.5 - c_xt * a_t**0.5
        x = c_x0 * x0 + c_xt * x
    return x0
