"""Adan (Xie et al. 2022, "Adan: Adaptive Nesterov Momentum Algorithm"), the no-prox variant
with decoupled weight decay and the authors' bias correction, as a `torch.optim.Optimizer`
(its state saves and restores with `state_dict`, so resume is exact). β1, β2, β3 are the
weights of the new term: m ← (1−β1)m + β1 g, v ← (1−β2)v + β2 (g − g_prev),
n ← (1−β3)n + β3 [g + (1−β2)(g − g_prev)]², θ ← θ(1 − ηλ) − η (m̂ + (1−β2) v̂) / (√n̂ + ε)."""

from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor


class Adan(torch.optim.Optimizer):
    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-4,
        betas: tuple[float, float, float] = (0.02, 0.08, 0.01),
        eps: float = 1e-8,
        weight_decay: float = 0.02,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[no-untyped-def, override]
        for group in self.param_groups:
            b1, b2, b3 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["m"], st["v"], st["n"] = (torch.zeros_like(p) for _ in range(3))
                    st["g_prev"] = g.clone()
                st["step"] += 1
                k = st["step"]
                diff = g - st["g_prev"]
                st["m"].mul_(1 - b1).add_(g, alpha=b1)
                st["v"].mul_(1 - b2).add_(diff, alpha=b2)
                u = g + (1 - b2) * diff
                st["n"].mul_(1 - b3).addcmul_(u, u, value=b3)
                bc1 = 1 - (1 - b1) ** k
                bc2 = 1 - (1 - b2) ** k
                bc3 = (1 - (1 - b3) ** k) ** 0.5
                denom = st["n"].sqrt() / bc3 + eps
                upd = (st["m"] / bc1 + st["v"] * ((1 - b2) / bc2)) / denom
                p.mul_(1 - lr * wd).add_(upd, alpha=-lr)
                st["g_prev"].copy_(g)
        return None
