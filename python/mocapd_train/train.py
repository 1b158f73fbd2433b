"""The training loop: PTSS timesteps, forward noising, per-window condition dropout (CFG), x0
prediction under bf16 autocast, the w_t-weighted x0 loss + λ_vel L_vel + λ_joints L_joints (world) +
λ_pose L_joints (root-relative) + λ_foot L_foot, AdamW or Adan with warm-up and cosine decay, periodic validation (loss and the
MPJPE of 4-step DDIM samples on held-out subjects), checkpoints every N steps and exact resume:
batch k, its crops, timesteps, noise and dropout are functions of (seed, k) alone."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import losses as L
from .checkpoint import save_checkpoint
from .config import TrainConfig
from .data import Manifest, Split, epoch_order, read_manifest
from .diffusion import NoiseSchedule, Weighting, ddim_sample, p_at, ptss
from .model import Denoiser
from .optim import Adan
from .report import Progress, append_log, hardware, plot_losses, read_log, write_log, write_model_card

STATE = "train-state.pt"
CHECKPOINT = "checkpoint.safetensors"


class TrainError(Exception):
    pass


@dataclass
class Batch:
    x0: torch.Tensor  # normalised motion [B, S, 151]
    pose: torch.Tensor  # [B, S, 17, 3]


def free_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainError("device = \"cuda\" but PyTorch sees no CUDA device; use \"auto\" or \"cpu\"")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def step_generator(seed: int, k: int, salt: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + k * 7919 + salt * 104_729) % (2**63))


class Trainer:
    def __init__(self, cfg: TrainConfig) -> None:
        cfg.validate()
        self.cfg = cfg
        self.device = pick_device(cfg.device)
        self.threads = cfg.threads or free_cores()
        if self.device.type == "cpu":
            torch.set_num_threads(self.threads)
        self.manifest: Manifest = read_manifest(cfg.data_dir)
        self.mcfg = cfg.model_config()
        m = self.manifest
        if self.mcfg.frames > m.clip_len or self.mcfg.motion_dim != m.feature_dim:
            raise TrainError(
                f"model frames {self.mcfg.frames} / motion_dim {self.mcfg.motion_dim} do not fit clips of "
                f"{m.clip_len} frames × {m.feature_dim}"
            )
        self.norm = L.Norm(m.mean, m.std).to(self.device)
        self.train = Split(m, "train")
        self.val = Split(m, "val") if m.shards("val") else None
        torch.manual_seed(cfg.seed)
        self.model = Denoiser(self.mcfg).to(self.device)
        self.params = sum(p.numel() for p in self.model.parameters())
        o = cfg.optim
        if o.kind == "adan":
            self.opt: torch.optim.Optimizer = Adan(self.model.parameters(), lr=o.lr, weight_decay=o.weight_decay)
        else:
            self.opt = torch.optim.AdamW(self.model.parameters(), lr=o.lr, weight_decay=o.weight_decay)
        self.sched = NoiseSchedule()
        lo = cfg.loss
        self.weighting = Weighting(lo.weighting, lo.gamma, lo.normalize, lo.floor)
        self.wtable = self.weighting.table(self.sched).to(self.device)
        self.constant = Weighting("constant")
        self.ctable = self.constant.table(self.sched).to(self.device)
        self.out = cfg.out_dir
        self._order: tuple[int, np.ndarray] = (-1, np.zeros(0, dtype=np.int64))

    # ---------------------------------------------------------------- data
    def batch(self, k: int, gen: torch.Generator) -> Batch:
        b, n = self.cfg.schedule.batch_size, self.train.n
        idx = []
        for i in range(b):
            g = k * b + i
            epoch = g // n
            if self._order[0] != epoch:
                self._order = (epoch, epoch_order(n, self.cfg.seed, epoch))
            idx.append(int(self._order[1][g % n]))
        frames = self.mcfg.frames
        start = int(torch.randint(0, self.manifest.clip_len - frames + 1, (1,), generator=gen))
        return self.to_batch(*self.train.batch(idx, start, frames))

    def to_batch(self, motion: np.ndarray, pose: np.ndarray) -> Batch:
        x0 = self.norm.normalize(torch.from_numpy(motion).to(self.device))
        return Batch(x0, torch.from_numpy(pose).to(self.device))

    # ---------------------------------------------------------------- loss
    def autocast(self) -> Any:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.bf16)

    def loss(
        self, bt: Batch, k: int, gen: torch.Generator, p: float, cond_drop: float, weighting: Weighting, table: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Loss parts of one batch; w_t = `weighting` read from its `table` (built once per run)."""
        b, s, _ = bt.x0.shape
        lo = self.cfg.loss
        t = ptss(b, s, p, self.sched.steps, gen).to(self.device)
        noise = torch.randn(bt.x0.shape, generator=gen).to(self.device)
        drop = (torch.rand(b, generator=gen) < cond_drop).float().to(self.device)
        xt = self.sched.q_sample(bt.x0, t, noise)
        with self.autocast():
            pred = self.model(xt, t, bt.pose, drop)
        pred = pred.float()
        w = weighting.weights(table, t)
        l_x0 = L.x0_loss(pred, bt.x0, w)
        l_vel = L.velocity_loss(pred, bt.x0, w)
        pred_raw = self.norm.denormalize(pred)
        pred_pos = L.fk(pred_raw)
        with torch.no_grad():
            target_pos = L.fk(self.norm.denormalize(bt.x0))
        l_j = L.joints_loss(pred_pos, target_pos, w)
        l_p = L.pose_loss(pred_pos, target_pos, w)
        l_f = L.foot_loss(pred_pos, pred_raw, w)
        total = l_x0 + lo.vel.at(k) * l_vel + lo.joints.at(k) * l_j + lo.pose.at(k) * l_p + lo.foot.at(k) * l_f
        return {"loss": total, "x0": l_x0, "vel": l_vel, "joints": l_j, "pose": l_p, "foot": l_f}

    def lr_at(self, k: int) -> float:
        o = self.cfg.optim
        warm = min((k + 1) / o.warmup_steps, 1.0) if o.warmup_steps > 0 else 1.0
        if not o.cosine:
            return o.lr * warm
        f = min(k / max(self.cfg.schedule.steps, 1), 1.0)
        return o.lr * warm * (o.lr_final + (1 - o.lr_final) * 0.5 * (1 + math.cos(math.pi * f)))

    # ---------------------------------------------------------------- validation
    @torch.no_grad()
    def x0_fn(self, pose: torch.Tensor):  # type: ignore[no-untyped-def]
        tokens, pooled = self.model.encoder(pose)

        def f(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            with self.autocast():
                return self.model.denoise(x, t, tokens, pooled).float()

        return f

    @torch.no_grad()
    def validate(self, k: int) -> dict[str, float]:
        """One protocol for every run, whatever its weighting and PTSS: unweighted loss with one
        timestep per window on fixed batches, and errors of DDIM samples (4 steps, no guidance)
        and of the 1-step x0 estimate on `val_clips` windows spread over the split."""
        assert self.val is not None
        self.model.eval()
        s = self.cfg.schedule
        frames = self.mcfg.frames
        acc: dict[str, float] = {}
        for vb in range(s.val_batches):
            idx = [(vb * s.batch_size + i) % self.val.n for i in range(s.batch_size)]
            parts = self.loss(self.to_batch(*self.val.batch(idx, 0, frames)), k, step_generator(self.cfg.seed, vb, 1), 0.0, 0.0, self.constant, self.ctable)
            for key, v in parts.items():
                acc[key] = acc.get(key, 0.0) + float(v) / s.val_batches
        clips = min(s.val_clips, self.val.n)
        idx = [i * self.val.n // clips for i in range(clips)]
        errs: dict[str, list[torch.Tensor]] = {"mpjpe": [], "pa": [], "one": [], "mean": []}
        gen = step_generator(self.cfg.seed, 0, 2)
        for c in range(0, clips, 64):
            bt = self.to_batch(*self.val.batch(idx[c : c + 64], 0, frames))
            x_init = torch.randn(bt.x0.shape, generator=gen).to(self.device)
            f = self.x0_fn(bt.pose)
            target = L.fk(self.norm.denormalize(bt.x0))
            out = L.fk(self.norm.denormalize(ddim_sample(f, self.sched, x_init, s.val_ddim_steps)))
            one = L.fk(self.norm.denormalize(ddim_sample(f, self.sched, x_init, 1)))
            mean = L.fk(self.norm.denormalize(torch.zeros_like(bt.x0)))
            errs["mpjpe"].append(L.mpjpe_mm(out, target))
            errs["pa"].append(L.pa_mpjpe_mm(out, target))
            errs["one"].append(L.mpjpe_mm(one, target))
            errs["mean"].append(L.mpjpe_mm(mean, target))
        self.model.train()
        val = {f"val_{k}": v for k, v in acc.items() if k in ("loss", "x0", "joints")}
        val["val_mpjpe_mm"] = float(torch.cat(errs["mpjpe"]).mean())
        val["val_pa_mpjpe_mm"] = float(torch.cat(errs["pa"]).mean())
        val["val_mpjpe_1step_mm"] = float(torch.cat(errs["one"]).mean())
        val["val_mean_pose_mpjpe_mm"] = float(torch.cat(errs["mean"]).mean())
        return val

    # ---------------------------------------------------------------- state
    def save(self, step: int, elapsed: float, train_s: float, history: list[dict[str, Any]]) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        save_checkpoint(self.out / CHECKPOINT, self.model, self.norm.mean.tolist(), self.norm.std.tolist(), self.manifest.contract)
        tmp = self.out / (STATE + ".tmp")
        torch.save(
            {"step": step, "elapsed_s": elapsed, "train_s": train_s, "model": self.model.state_dict(),
             "optim": self.opt.state_dict(), "config": self.cfg.to_dict()},  # fmt: skip
            tmp,
        )
        os.replace(tmp, self.out / STATE)
        if history:
            plot_losses(self.out / "loss.png", history, f"{self.out.name}: {self.params:,} parameters")
        last_val = next((r for r in reversed(history) if "val_loss" in r), None)
        write_model_card(
            self.out / "model-card.md",
            {"name": self.out.name, "manifest": self.manifest, "config": self.cfg.to_dict(), "model_config": self.mcfg.to_json_dict(),
             "params": self.params, "step": step, "elapsed_s": elapsed, "train_s": train_s,
             "samples_per_s": step * self.cfg.schedule.batch_size / max(train_s, 1e-9),
             "hardware": hardware(self.device, self.threads), "last_val": last_val},  # fmt: skip
        )

    # ---------------------------------------------------------------- loop
    def run(self, resume: bool, max_seconds: float | None = None, stop_at: int | None = None) -> dict[str, Any]:
        """Trains to `schedule.steps`, or until `max_seconds` have passed or step `stop_at` is done
        (both leave a checkpoint that `resume` continues exactly)."""
        cfg, s = self.cfg, self.cfg.schedule
        self.out.mkdir(parents=True, exist_ok=True)
        state_path, log_path = self.out / STATE, self.out / "log.jsonl"
        start, elapsed0, train_s = 0, 0.0, 0.0
        history: list[dict[str, Any]] = []
        if resume:
            if not state_path.exists():
                raise TrainError(f"--resume: {state_path} not found (nothing to resume in {self.out})")
            st = torch.load(state_path, map_location=self.device, weights_only=False)
            self.model.load_state_dict(st["model"])
            self.opt.load_state_dict(st["optim"])
            start, elapsed0, train_s = int(st["step"]), float(st["elapsed_s"]), float(st["train_s"])
            history = read_log(log_path, start)
            write_log(log_path, history)
        elif state_path.exists():
            raise TrainError(f"{self.out} already holds a run: pass --resume to continue it, or choose another out_dir")
        elif log_path.exists():
            log_path.unlink()
        t0 = time.monotonic()
        bar = Progress(s.steps, start, s.progress)
        acc: dict[str, float] = {}
        n_acc = 0
        session_steps, session_train_s = 0, 0.0
        first = last = float("nan")
        k = start
        for k in range(start, s.steps):
            ts = time.monotonic()
            gen = step_generator(cfg.seed, k)
            bt = self.batch(k, gen)
            lr = self.lr_at(k)
            for group in self.opt.param_groups:
                group["lr"] = lr
            parts = self.loss(bt, k, gen, p_at(cfg.loss.p_from, cfg.loss.p_to, cfg.loss.p_steps, k), self.mcfg.cond_drop, self.weighting, self.wtable)
            total = parts["loss"]
            if not torch.isfinite(total):
                raise TrainError(f"loss is not finite at step {k}: lower optim.lr or set optim.grad_clip")
            self.opt.zero_grad(set_to_none=True)
            total.backward()
            if cfg.optim.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.optim.grad_clip)
            self.opt.step()
            dt = time.monotonic() - ts
            train_s += dt
            session_train_s += dt
            session_steps += 1
            value = float(total.detach())
            first = value if math.isnan(first) else first
            last = value
            for key, v in parts.items():
                acc[key] = acc.get(key, 0.0) + float(v.detach())
            n_acc += 1
            done = k + 1
            is_val = self.val is not None and (done == s.steps or (s.val_every > 0 and done % s.val_every == 0))
            is_ckpt = done == s.steps or (s.checkpoint_every > 0 and done % s.checkpoint_every == 0)
            out_of_time = (max_seconds is not None and time.monotonic() - t0 >= max_seconds) or (stop_at is not None and done >= stop_at)
            sps = session_steps * s.batch_size / max(session_train_s, 1e-9)
            if done % max(s.log_every, 1) == 0 or is_val or is_ckpt or out_of_time:
                rec: dict[str, Any] = {"step": done, "time": elapsed0 + time.monotonic() - t0, "lr": lr}
                rec.update({key: v / max(n_acc, 1) for key, v in acc.items()})
                rec["samples_per_s"] = sps
                if is_val:
                    rec.update(self.validate(k))
                    bar.println(
                        f"step {done}: val loss {rec['val_loss']:.4f} | MPJPE {rec['val_mpjpe_mm']:.1f} mm (4-step), "
                        f"PA {rec['val_pa_mpjpe_mm']:.1f}, 1-step {rec['val_mpjpe_1step_mm']:.1f}, mean pose {rec['val_mean_pose_mpjpe_mm']:.1f}"
                    )
                append_log(log_path, rec)
                history.append(rec)
                acc, n_acc = {}, 0
            bar.update(done, f"loss {last:.4f} | {sps:.1f} samples/s")
            if is_ckpt or out_of_time:
                self.save(done, elapsed0 + time.monotonic() - t0, train_s, history)
            if out_of_time:
                break
        bar.finish()
        return {
            "out_dir": str(self.out), "start_step": start, "steps": k + 1 if session_steps else start, "params": self.params,
            "samples_per_s": session_steps * s.batch_size / max(session_train_s, 1e-9),
            "s_per_step": session_train_s / max(session_steps, 1), "first_loss": first, "last_loss": last,
            "threads": self.threads, "device": str(self.device), "bf16": cfg.bf16,
        }  # fmt: skip
