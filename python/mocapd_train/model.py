"""The ViMo denoiser in PyTorch, parameter for parameter the network that `mocapd` runs in candle
and ONNX Runtime (`src/model/`): a pose encoder (COCO-17 → per-frame tokens and a pooled vector,
plus the learned null condition of classifier-free guidance), a timestep embedding, and FiLM blocks
of self-attention over motion frames, cross-attention to the pose tokens and an MLP.

Frame-aligned conditioning (`frame_cond`): each motion frame also receives its own frame's pose
token through a linear `frame` (d → d) added at the denoiser input, next to ViMo's cross-attention
and FiLM, so nothing but position embeddings has to pair pose frame i with motion frame i.

State-dict keys are the checkpoint keys of `mocapd.denoiser/1`; `torch.nn.Linear` stores its
weight as [out, in], as candle does, so tensors are saved as they are.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class ModelConfig:
    """Mirrors `mocapd::model::ModelConfig`; `to_json_dict` is the checkpoint's `config` metadata."""

    d_model: int = 128
    n_heads: int = 4
    n_blocks: int = 3
    film: str = "V1"
    frames: int = 150
    motion_dim: int = 151
    pose_joints: int = 17
    pose_channels: int = 3
    conf_threshold: float = 0.3
    encoder_layers: int = 1
    mlp_ratio: int = 4
    activation: str = "Relu"
    cond_drop: float = 0.25
    layer_norm_eps: float = 1e-5
    frame_cond: bool = False

    @staticmethod
    def preset(name: str, frames: int = 150) -> "ModelConfig":
        if name == "small":
            return ModelConfig(frames=frames)
        if name == "big":
            return ModelConfig(d_model=256, n_heads=8, frames=frames)
        if name == "tiny":
            return ModelConfig(d_model=32, n_heads=2, n_blocks=1, mlp_ratio=2, frames=frames)
        raise ValueError(f"model.preset `{name}`: expected small, big or tiny")

    def validate(self) -> None:
        if self.d_model <= 0 or self.n_heads <= 0 or self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} not divisible by n_heads {self.n_heads}")
        if self.d_model % 2:
            raise ValueError("d_model must be even (sinusoidal embedding)")
        if self.film not in ("V1", "V2"):
            raise ValueError(f"film `{self.film}`: expected V1 or V2")
        if self.activation not in ("Relu", "Silu", "Gelu"):
            raise ValueError(f"activation `{self.activation}`: expected Relu, Silu or Gelu")
        if self.frames <= 0 or self.pose_channels != 3:
            raise ValueError("frames must be > 0 and pose_channels == 3")
        if not 0.0 <= self.cond_drop <= 1.0:
            raise ValueError("cond_drop must be in [0, 1]")

    def to_json_dict(self) -> dict[str, object]:
        d = asdict(self)
        if not self.frame_cond:
            # Older readers know no such key; leaving it out keeps their checkpoints byte-compatible.
            del d["frame_cond"]
        return d


class Mlp(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(cfg.d_model, cfg.d_model * cfg.mlp_ratio)
        self.fc2 = nn.Linear(cfg.d_model * cfg.mlp_ratio, cfg.d_model)
        self.act = cfg.activation

    def forward(self, x: Tensor) -> Tensor:
        h = self.fc1(x)
        if self.act == "Relu":
            h = F.relu(h)
        elif self.act == "Silu":
            h = F.silu(h)
        else:
            h = F.gelu(h, approximate="tanh")
        return self.fc2(h)


def _heads(x: Tensor, n: int, h: int) -> Tensor:
    """[B, S, n·d] → [n, B, H, S, d/H] (candle's split_heads)."""
    b, s, nd = x.shape
    return x.reshape(b, s, n, h, nd // n // h).permute(2, 0, 3, 1, 4)


def _merge(x: Tensor) -> Tensor:
    b, h, s, dh = x.shape
    return x.transpose(1, 2).reshape(b, s, h * dh)


class SelfAttention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.heads = cfg.n_heads

    def forward(self, x: Tensor) -> Tensor:
        q, k, v = _heads(self.qkv(x), 3, self.heads)
        return self.out(_merge(F.scaled_dot_product_attention(q, k, v)))


class CrossAttention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.q = nn.Linear(cfg.d_model, cfg.d_model)
        self.kv = nn.Linear(cfg.d_model, 2 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.heads = cfg.n_heads

    def forward(self, x: Tensor, tokens: Tensor) -> Tensor:
        q = _heads(self.q(x), 1, self.heads)[0]
        k, v = _heads(self.kv(tokens), 2, self.heads)
        return self.out(_merge(F.scaled_dot_product_attention(q, k, v)))


class EncoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        eps = cfg.layer_norm_eps
        self.ln1 = nn.LayerNorm(cfg.d_model, eps=eps)
        self.attn = SelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model, eps=eps)
        self.mlp = Mlp(cfg)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class PoseEncoder(nn.Module):
    """COCO-17 (x, y, confidence) per frame → tokens [B, S, d] and pooled [B, d]. A joint under
    `conf_threshold` enters as (0, 0, 0): its x, y zeroed next to a mask bit."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.input = nn.Linear(cfg.pose_joints * 3, d)
        self.pos = nn.Parameter(torch.randn(cfg.frames, d) * 0.02)
        self.layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.encoder_layers))
        self.ln = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.pool = nn.Linear(d, d)
        self.null_tokens = nn.Parameter(torch.randn(cfg.frames, d) * 0.02)
        self.null_pooled = nn.Parameter(torch.randn(d) * 0.02)
        self.threshold = cfg.conf_threshold

    def joint_features(self, pose: Tensor) -> Tensor:
        b, s, j, _ = pose.shape
        m = (pose[..., 2:3] >= self.threshold).to(pose.dtype)
        return torch.cat([pose[..., :2] * m, m], dim=-1).reshape(b, s, j * 3)

    def forward(self, pose: Tensor, drop: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """`drop` [B] (1 = the null condition ∅ for that window, 0 = keep) blends as candle's
        `encode_with_drop` does."""
        s = pose.shape[1]
        x = self.input(self.joint_features(pose)) + self.pos[:s]
        for layer in self.layers:
            x = layer(x)
        tokens = self.ln(x)
        pooled = self.pool(tokens.mean(dim=1))
        if drop is not None:
            m = drop.to(tokens.dtype)
            keep = 1.0 - m
            tokens = tokens * keep[:, None, None] + self.null_tokens[:s][None] * m[:, None, None]
            pooled = pooled * keep[:, None] + self.null_pooled[None] * m[:, None]
        return tokens, pooled

    def null(self, b: int, s: int) -> tuple[Tensor, Tensor]:
        return self.null_tokens[:s].expand(b, s, -1), self.null_pooled.expand(b, -1)


class TimestepEmbedding(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        half = cfg.d_model // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half).float()
        self.register_buffer("freqs", freqs, persistent=False)
        self.fc1 = nn.Linear(cfg.d_model, cfg.d_model)
        self.fc2 = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, t: Tensor) -> Tensor:
        """t [B, St] (any numeric dtype) → [B, St, d]."""
        args = t.float()[..., None] * self.freqs
        return self.fc2(F.silu(self.fc1(torch.cat([args.sin(), args.cos()], dim=-1))))


class Block(nn.Module):
    """y = x + (1 + γ) ⊙ f(LN(x)) + β for self-attention, cross-attention and MLP; (γ, β) =
    film_t(SiLU(embed t)) + film_p(SiLU(pooled)); V1 shares one pair, V2 has three."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d, eps = cfg.d_model, cfg.layer_norm_eps
        self.pairs = 1 if cfg.film == "V1" else 3
        self.ln1 = nn.LayerNorm(d, eps=eps)
        self.self_attn = SelfAttention(cfg)
        self.ln2 = nn.LayerNorm(d, eps=eps)
        self.cross_attn = CrossAttention(cfg)
        self.ln3 = nn.LayerNorm(d, eps=eps)
        self.mlp = Mlp(cfg)
        self.film_t = nn.Linear(d, 2 * self.pairs * d)
        self.film_p = nn.Linear(d, 2 * self.pairs * d, bias=False)

    def forward(self, x: Tensor, t_act: Tensor, tokens: Tensor, pooled_act: Tensor) -> Tensor:
        b, _, d = x.shape
        f = self.film_t(t_act) + self.film_p(pooled_act)[:, None]
        f = f.reshape(b, t_act.shape[1], 2 * self.pairs, d)

        def film(i: int) -> tuple[Tensor, Tensor]:
            i = min(i, self.pairs - 1)
            return 1.0 + f[:, :, 2 * i], f[:, :, 2 * i + 1]

        g, bt = film(0)
        x = x + self.self_attn(self.ln1(x)) * g + bt
        g, bt = film(1)
        x = x + self.cross_attn(self.ln2(x), tokens) * g + bt
        g, bt = film(2)
        return x + self.mlp(self.ln3(x)) * g + bt


class Denoiser(nn.Module):
    """x̂0 = D(x_t, t, p) with x_t [B, S, motion_dim], t [B] or [B, S], pose [B, S, 17, 3]."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        d = cfg.d_model
        self.encoder = PoseEncoder(cfg)
        self.time = TimestepEmbedding(cfg)
        self.input = nn.Linear(cfg.motion_dim, d)
        self.pos = nn.Parameter(torch.randn(cfg.frames, d) * 0.02)
        self.frame = nn.Linear(d, d) if cfg.frame_cond else None
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_blocks))
        self.final_ln = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.output = nn.Linear(d, cfg.motion_dim)

    def denoise(self, x_t: Tensor, t: Tensor, tokens: Tensor, pooled: Tensor) -> Tensor:
        b, s, _ = x_t.shape
        if t.dim() == 0:
            t = t.reshape(1, 1).expand(b, 1)
        elif t.dim() == 1:
            t = t.reshape(b, 1)
        t_act = F.silu(self.time(t))
        h = self.input(x_t) + self.pos[:s]
        if self.frame is not None:
            h = h + self.frame(tokens[:, :s])
        pooled_act = F.silu(pooled)
        for blk in self.blocks:
            h = blk(h, t_act, tokens, pooled_act)
        return self.output(self.final_ln(h))

    def forward(self, x_t: Tensor, t: Tensor, pose: Tensor, drop: Tensor | None = None) -> Tensor:
        tokens, pooled = self.encoder(pose, drop)
        return self.denoise(x_t, t, tokens, pooled)
