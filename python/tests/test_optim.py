from __future__ import annotations

import torch

from mocapd_train.optim import Adan


def test_adan_two_steps_by_hand() -> None:
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = Adan([p], lr=0.1, weight_decay=0.0)
    b1, b2, b3, eps = 0.02, 0.08, 0.01, 1e-8
    g1, g2 = torch.tensor([0.5, 1.0]), torch.tensor([1.0, -1.0])
    theta = p.detach().clone()
    m = b1 * g1
    v = torch.zeros(2)
    n = b3 * g1**2
    theta = theta - 0.1 * (m / b1 + v) / ((n / b3).sqrt() + eps)
    p.grad = g1.clone()
    opt.step()
    assert torch.allclose(p.detach(), theta, atol=1e-6)
    d = g2 - g1
    m = (1 - b1) * m + b1 * g2
    v = (1 - b2) * v + b2 * d
    n = (1 - b3) * n + b3 * (g2 + (1 - b2) * d) ** 2
    bc1, bc2, bc3 = 1 - (1 - b1) ** 2, 1 - (1 - b2) ** 2, (1 - (1 - b3) ** 2) ** 0.5
    theta = theta - 0.1 * (m / bc1 + (1 - b2) * v / bc2) / (n.sqrt() / bc3 + eps)
    p.grad = g2.clone()
    opt.step()
    assert torch.allclose(p.detach(), theta, atol=1e-6)
    # state round-trips (exact resume)
    opt2 = Adan([torch.nn.Parameter(p.detach().clone())], lr=0.1, weight_decay=0.0)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.state_dict()["state"][0]["step"] == 2
