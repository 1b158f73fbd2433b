"""ViMo's training losses on the motion contract's 151-dim frames (`mocapd::motion::codec`):
the w_t-weighted x0 loss, L_vel on 6D rotations, L_joints on SMPL-24 FK positions (world and
root-relative) and L_foot
(foot velocities masked by the predicted contacts); plus FK and MPJPE / PA-MPJPE for validation.
FK always runs in fp32, outside bf16 autocast."""

from __future__ import annotations

import torch
from torch import Tensor

ROT_DIMS = 144
CONTACT_OFFSET = 144
ROOT_OFFSET = 148
# Left ankle, left foot, right ankle, right foot (`codec::CONTACT_JOINTS`).
CONTACT_JOINTS = (7, 10, 8, 11)
PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
# SMPL-24 rest (T-pose) joints in metres, `skeleton::smpl::REST_JOINTS`.
REST_JOINTS = (
    (-0.0018, -0.2233, 0.0282), (0.0677, -0.3147, 0.0214), (-0.0695, -0.3139, 0.0239),
    (-0.0043, -0.1144, 0.0015), (0.1020, -0.6899, 0.0169), (-0.1078, -0.6964, 0.0150),
    (0.0012, 0.0208, 0.0026), (0.0884, -1.0879, -0.0268), (-0.0920, -1.0948, -0.0273),
    (0.0026, 0.0737, 0.0280), (0.1148, -1.1437, 0.0925), (-0.1174, -1.1430, 0.0961),
    (-0.0002, 0.2876, -0.0148), (0.0815, 0.1955, -0.0060), (-0.0791, 0.1926, -0.0106),
    (0.0050, 0.3526, 0.0365), (0.1724, 0.2260, -0.0149), (-0.1752, 0.2251, -0.0197),
    (0.4321, 0.2132, -0.0424), (-0.4289, 0.2118, -0.0411), (0.6813, 0.2222, -0.0435),
    (-0.6842, 0.2196, -0.0467), (0.7653, 0.2140, -0.0585), (-0.7688, 0.2134, -0.0570),
)  # fmt: skip


def rest_offsets() -> Tensor:
    rest = torch.tensor(REST_JOINTS, dtype=torch.float32)
    off = rest.clone()
    for j, p in enumerate(PARENTS):
        if p >= 0:
            off[j] = rest[j] - rest[p]
    return off


def sixd_to_mat(d: Tensor) -> Tensor:
    """[..., 6] (first two columns) → [..., 3, 3] by Gram-Schmidt, columns b1, b2, b1 × b2."""
    a1, a2 = d[..., :3], d[..., 3:6]
    b1 = a1 / a1.norm(dim=-1, keepdim=True).clamp(min=1e-8)
    b2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = b2 / b2.norm(dim=-1, keepdim=True).clamp(min=1e-8)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], dim=-1)


def fk(raw: Tensor) -> Tensor:
    """Raw frames [B, S, 151] (6D local rotations, root position in metres) → joints [B, S, 24, 3]."""
    raw = raw.float()
    b, s, _ = raw.shape
    rot = sixd_to_mat(raw[..., :ROT_DIMS].reshape(b, s, 24, 6))
    off = rest_offsets().to(raw.device)
    glob: list[Tensor] = []
    pos: list[Tensor] = []
    for j, p in enumerate(PARENTS):
        if p < 0:
            glob.append(rot[:, :, 0])
            pos.append(raw[..., ROOT_OFFSET : ROOT_OFFSET + 3])
        else:
            pos.append(pos[p] + glob[p] @ off[j])
            glob.append(glob[p] @ rot[:, :, j])
    return torch.stack(pos, dim=2)


class Norm:
    """Model space = (x − mean) / std, std floored at 1e-2 (constant features)."""

    MIN_STD = 1e-2

    def __init__(self, mean: list[float], std: list[float]) -> None:
        self.mean = torch.tensor(mean, dtype=torch.float32)
        s = torch.tensor(std, dtype=torch.float32)
        self.std = torch.where(torch.isfinite(s), s.clamp(min=self.MIN_STD), torch.ones_like(s))

    def to(self, device: torch.device) -> "Norm":
        self.mean, self.std = self.mean.to(device), self.std.to(device)
        return self

    def normalize(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def denormalize(self, x: Tensor) -> Tensor:
        return x.float() * self.std + self.mean


def x0_loss(pred: Tensor, target: Tensor, w: Tensor) -> Tensor:
    return (((pred - target) ** 2).mean(-1) * w).mean()


def velocity_loss(pred: Tensor, target: Tensor, w: Tensor) -> Tensor:
    if pred.shape[1] < 2:
        return pred.new_zeros(())
    v = lambda x: x[:, 1:, :ROT_DIMS] - x[:, :-1, :ROT_DIMS]  # noqa: E731
    return (((v(pred) - v(target)) ** 2).mean(-1) * w[:, 1:]).mean()


def joints_loss(pred_pos: Tensor, target_pos: Tensor, w: Tensor) -> Tensor:
    return (((pred_pos - target_pos) ** 2).sum(-1).mean(-1) * w).mean()


def root_relative(pos: Tensor) -> Tensor:
    """Joints [B, S, 24, 3] with each frame's root (pelvis) moved to the origin."""
    return pos - pos[:, :, :1]


def pose_loss(pred_pos: Tensor, target_pos: Tensor, w: Tensor) -> Tensor:
    """L_joints on root-relative positions: the body's pose alone, what MPJPE measures (L_joints
    on world positions is dominated by the root's drift over a window)."""
    return joints_loss(root_relative(pred_pos), root_relative(target_pos), w)


def foot_loss(pred_pos: Tensor, pred_raw: Tensor, w: Tensor) -> Tensor:
    if pred_pos.shape[1] < 2:
        return pred_pos.new_zeros(())
    feet = pred_pos[:, :, list(CONTACT_JOINTS)]
    vel = ((feet[:, 1:] - feet[:, :-1]) ** 2).sum(-1)
    f = pred_raw[:, :-1, CONTACT_OFFSET : CONTACT_OFFSET + 4].clamp(0.0, 1.0)
    return ((vel * f).mean(-1) * w[:, 1:]).mean()


def mpjpe_mm(pred_pos: Tensor, target_pos: Tensor) -> Tensor:
    """Root-relative mean per-joint error in mm, per frame: [B, S]."""
    return (root_relative(pred_pos) - root_relative(target_pos)).norm(dim=-1).mean(-1) * 1000.0


def pa_mpjpe_mm(pred_pos: Tensor, target_pos: Tensor) -> Tensor:
    """Per-frame error after a similarity Procrustes fit of each predicted frame: [B, S]."""
    p = pred_pos.double() - pred_pos.double().mean(2, keepdim=True)
    q = target_pos.double() - target_pos.double().mean(2, keepdim=True)
    h = p.transpose(-1, -2) @ q
    u, sv, vt = torch.linalg.svd(h)
    d = torch.sign(torch.linalg.det(vt.transpose(-1, -2) @ u.transpose(-1, -2)))
    e = torch.ones_like(sv)
    e[..., 2] = d
    r = vt.transpose(-1, -2) @ torch.diag_embed(e) @ u.transpose(-1, -2)
    scale = (sv * e).sum(-1) / (p**2).sum((-1, -2)).clamp(min=1e-12)
    aligned = scale[..., None, None] * (p @ r.transpose(-1, -2))
    return ((aligned - q).norm(dim=-1).mean(-1) * 1000.0).float()
