from __future__ import annotations

import math

import torch

from mocapd_train import losses as L
from mocapd_train.diffusion import NoiseSchedule, Weighting, ddim_sample, ptss


def identity_frames(b: int, s: int) -> torch.Tensor:
    x = torch.zeros(b, s, 151)
    six = torch.tensor([1.0, 0, 0, 0, 1, 0])
    x[..., :144] = six.repeat(24)
    return x


def test_fk_of_the_rest_pose_is_the_smpl_skeleton() -> None:
    x = identity_frames(1, 2)
    x[0, 1, 148:151] = torch.tensor([0.5, 0.9, -1.0])
    pos = L.fk(x)
    rest = torch.tensor(L.REST_JOINTS)
    assert torch.allclose(pos[0, 0], rest - rest[0], atol=1e-6)
    assert torch.allclose(pos[0, 1], rest - rest[0] + torch.tensor([0.5, 0.9, -1.0]), atol=1e-6)


def test_fk_turns_children_with_their_parent() -> None:
    x = identity_frames(1, 1)
    c, s = math.cos(math.pi / 2), math.sin(math.pi / 2)
    # left hip (1) turned 90° about z: columns (c, s, 0), (-s, c, 0)
    x[0, 0, 6:12] = torch.tensor([c, s, 0, -s, c, 0])
    pos = L.fk(x)[0, 0]
    off = torch.tensor(L.REST_JOINTS[4]) - torch.tensor(L.REST_JOINTS[1])
    assert torch.allclose(pos[4] - pos[1], torch.tensor([-off[1], off[0], off[2]]), atol=1e-5)


def test_pose_loss_ignores_the_root_and_sees_the_body() -> None:
    target = identity_frames(2, 3)
    moved = target.clone()
    moved[..., 148:151] += torch.tensor([0.4, -0.2, 1.5])  # the whole body drifted
    w = torch.ones(2, 3)
    tp, mp = L.fk(target), L.fk(moved)
    assert float(L.joints_loss(mp, tp, w)) > 1.0
    assert float(L.pose_loss(mp, tp, w)) < 1e-10
    bent = target.clone()
    c, s = math.cos(math.pi / 2), math.sin(math.pi / 2)
    bent[:, :, 6:12] = torch.tensor([c, s, 0, -s, c, 0])  # the left hip turned: knee, ankle, foot move
    bp = L.fk(bent)
    assert float(L.pose_loss(bp, tp, w)) > 1e-3
    assert torch.allclose(L.pose_loss(bp, tp, w), L.joints_loss(bp, tp, w))  # same root: same loss


def test_velocity_loss_and_pa_mpjpe_closed_forms() -> None:
    target = torch.zeros(1, 3, 151)
    ramp = torch.arange(3.0).reshape(1, 3, 1).expand(1, 3, 151)
    w = torch.tensor([[9.0, 1.0, 3.0]])
    assert L.velocity_loss(ramp, target, w).item() == 2.0
    p = torch.randn(2, 4, 24, 3)
    rot = torch.linalg.qr(torch.randn(3, 3))[0]
    rot = rot * torch.sign(torch.linalg.det(rot))
    q = 1.7 * p @ rot.T + 0.3
    assert L.pa_mpjpe_mm(q, p).max() < 1e-3
    assert L.mpjpe_mm(p, p).max() == 0


def test_weightings_keep_or_drop_the_high_noise_steps() -> None:
    s = NoiseSchedule()
    # t = 0: SNR ≈ 9999 → Min-SNR-5 caps at 5, sqrt-decay averaging ½(1 + 1) = 1
    assert Weighting("min_snr", 5.0).table(s)[0] == 5.0
    assert abs(float(Weighting("sqrt_decay_avg", 1.0).table(s)[0]) - 1.0) < 1e-9
    # t = 999: Min-SNR gives almost nothing; the floor keeps it at 1
    assert float(Weighting("min_snr", 5.0).table(s)[999]) < 1e-3
    assert float(Weighting("min_snr", 5.0, floor=1.0).table(s)[999]) == 1.0
    assert s.ddim_timesteps(4) == [999, 666, 333, 0] and s.ddim_timesteps(1) == [999]


def test_ptss_and_one_step_ddim() -> None:
    g = torch.Generator().manual_seed(1)
    shared = ptss(8, 150, 0.0, 1000, g)
    indep = ptss(8, 150, 1.0, 1000, g)
    assert (shared == shared[:, :1]).all()
    assert all(len(set(r.tolist())) > 100 for r in indep)
    calls: list[int] = []

    def x0_fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        calls.append(int(t[0]))
        return torch.full_like(x, 0.25)

    out = ddim_sample(x0_fn, NoiseSchedule(), torch.randn(1, 4, 151), 1)
    assert calls == [999] and torch.all(out == 0.25)
