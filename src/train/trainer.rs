//! The training loop: data in memory, seeded deterministic steps (batch, crop, timesteps, noise
//! and dropout of step k all come from (seed, k)), Adan/AdamW, periodic validation (loss and
//! few-step DDIM MPJPE), `log.jsonl`, `loss.png`, resumable checkpoints and `model-card.md`.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::adan::{AdamW, Adan, ParamsAdan, TrainOptimizer};
use super::config::{OptimKind, TrainConfig};
use super::data::{stats, SplitData, MIN_STD};
use super::init::{named_vars, seeded_builder};
use super::losses::{fk_positions, mpjpe_mm, MotionNorm};
use super::report::{append_log, plot_losses, read_log, rewrite_log, write_model_card, CardInfo, LogRecord};
use super::{diffusion_loss, LossConfig};
use crate::data::build::{read_manifest, Manifest, Split};
use crate::diffusion::{randn, LossWeighting, NoiseSchedule, PSchedule, PtssSampler, Weighting};
use crate::model::{save_checkpoint_as, CheckpointError, Denoiser, MotionStats};
use crate::sampler::{sample, Ddim, ModelX0, SampleOptions};

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("train config: {0}")]
    Config(String),
    #[error("training data: {0}")]
    Data(String),
    #[error(transparent)]
    Dataset(#[from] crate::data::DataError),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("loss plot: {0}")]
    Plot(String),
    #[error("resume: {0}")]
    Resume(String),
    #[error("compare: {0}")]
    Compare(String),
    #[error("loss is not finite at step {0}")]
    Diverged(usize),
}

/// What a call to [`train`] did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub out_dir: PathBuf,
    pub start_step: usize,
    pub steps: usize,
    pub params: usize,
    /// Seconds of this call.
    pub wall_s: f64,
    pub samples_per_s: f64,
    pub s_per_step: f64,
    /// Total loss of the first and the last step of this call.
    pub first_loss: f32,
    pub last_loss: f32,
    pub last: Option<LogRecord>,
    pub last_val: Option<LogRecord>,
}

/// `train-state.json`: where a checkpoint stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    step: usize,
    elapsed_s: f64,
    train_s: f64,
}

fn step_rng(seed: u64, k: usize, salt: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (k as u64) ^ (salt << 48))
}

struct Run<'a> {
    cfg: &'a TrainConfig,
    dev: Device,
    vm: VarMap,
    model: Denoiser,
    sched: NoiseSchedule,
    norm: MotionNorm,
    train: SplitData,
    val: Option<SplitData>,
    order: (usize, Vec<usize>),
}

impl Run<'_> {
    fn loss_config(&self, k: usize, cond_drop: f64) -> LossConfig {
        let l = &self.cfg.loss;
        LossConfig {
            ptss: self.cfg.ptss(self.sched.num_steps()),
            weighting: self.cfg.weighting(),
            cond_drop,
            lambda_vel: l.vel.at(k),
            lambda_joints: l.joints.at(k),
            lambda_foot: l.foot.at(k),
            norm: Some(self.norm.clone()),
        }
    }

    /// Batch of step k: samples k·B .. (k+1)·B of the epoch-wise shuffled order.
    fn batch(&mut self, k: usize, rng: &mut rand::rngs::StdRng) -> Result<(Tensor, Tensor), TrainError> {
        let b = self.cfg.schedule.batch_size;
        let n = self.train.n;
        let mut idx = Vec::with_capacity(b);
        for i in 0..b {
            let g = k * b + i;
            let epoch = g / n;
            if self.order.0 != epoch || self.order.1.is_empty() {
                self.order = (epoch, self.train.epoch_order(self.cfg.seed, epoch));
            }
            idx.push(self.order.1[g % n]);
        }
        let len = self.cfg.model.frames;
        let starts: Vec<usize> = (0..b).map(|_| rng.random_range(0..=self.train.frames - len)).collect();
        self.train.batch(&idx, &starts, len, &self.dev)
    }

    /// Validation loss (fixed batches, no dropout) and MPJPE of DDIM samples on fixed clips.
    fn validate(&self, k: usize) -> Result<Option<(f32, f32, f32, f32)>, TrainError> {
        let Some(val) = &self.val else { return Ok(None) };
        let s = &self.cfg.schedule;
        let len = self.cfg.model.frames;
        // One protocol for every run, whatever its weighting and PTSS: unweighted loss, one
        // timestep per clip. Runs of the ablations compare on the same numbers.
        let lc = LossConfig {
            ptss: PtssSampler::new(PSchedule::Constant(0.0), self.sched.num_steps()),
            weighting: LossWeighting::new(Weighting::Constant, false),
            ..self.loss_config(k, 0.0)
        };
        let (mut loss, mut x0, mut joints, mut nb) = (0f32, 0f32, 0f32, 0);
        for vb in 0..s.val_batches {
            let idx: Vec<usize> = (0..s.batch_size).map(|i| (vb * s.batch_size + i) % val.n).collect();
            let (m, p) = val.batch(&idx, &vec![0; idx.len()], len, &self.dev)?;
            let mut rng = step_rng(self.cfg.seed, vb, 1);
            let parts = diffusion_loss(&self.model, &self.sched, &lc, &m, &p, k, &mut rng)?;
            loss += parts.value;
            x0 += parts.x0;
            joints += parts.joints;
            nb += 1;
        }
        let nb = nb.max(1) as f32;
        let clips = s.val_mpjpe_clips.clamp(1, val.n);
        let idx: Vec<usize> = (0..clips).map(|i| i * val.n / clips).collect();
        let (m, p) = val.batch(&idx, &vec![0; clips], len, &self.dev)?;
        let mut rng = step_rng(self.cfg.seed, 0, 2);
        let x_init = randn(&mut rng, m.shape(), &self.dev)?;
        let ddim = Ddim::new(self.sched.clone(), 0.0);
        let mx = ModelX0::new(&self.model, &p)?;
        let opts = SampleOptions { steps: s.val_ddim_steps, guidance: 0.0, infill: None };
        let out = sample(&mx, &ddim, x_init, &opts, &mut rng)?;
        let pred = fk_positions(&self.norm.denormalize(&out)?)?;
        let target = fk_positions(&self.norm.denormalize(&m)?)?;
        Ok(Some((loss / nb, x0 / nb, joints / nb, mpjpe_mm(&pred, &target)?)))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io { path: path.into(), source }
}

fn rename(tmp: &Path, dst: &Path) -> Result<(), TrainError> {
    std::fs::rename(tmp, dst).map_err(io(dst))
}

/// Trains per `cfg`; `resume` continues from `out_dir/checkpoint.safetensors` exactly.
pub fn train(cfg: &TrainConfig, resume: bool) -> Result<TrainReport, TrainError> {
    cfg.validate()?;
    if cfg.threads > 0 {
        std::env::set_var("RAYON_NUM_THREADS", cfg.threads.to_string());
    }
    crate::model::tune_allocator();
    let t0 = Instant::now();
    let out = cfg.out_dir.clone();
    std::fs::create_dir_all(&out).map_err(io(&out))?;
    let manifest: Manifest = read_manifest(&cfg.data_dir)?;
    let (mean, std) = stats(&manifest);
    let mcfg = cfg.model_config()?;
    if mcfg.frames > manifest.clip_len || mcfg.motion_dim != manifest.feature_dim {
        return Err(TrainError::Config(format!(
            "model frames {} / motion_dim {} do not fit clips of {} frames × {}",
            mcfg.frames, mcfg.motion_dim, manifest.clip_len, manifest.feature_dim
        )));
    }
    let dev = Device::Cpu;
    let train_data = SplitData::load(&cfg.data_dir, &manifest, Split::Train, &mean, &std)?;
    let val = if manifest.shards.iter().any(|s| s.split == Split::Val) {
        Some(SplitData::load(&cfg.data_dir, &manifest, Split::Val, &mean, &std)?)
    } else {
        None
    };
    let vm = VarMap::new();
    let model = Denoiser::new(&mcfg, seeded_builder(&vm, cfg.seed, &dev))?;
    let vars = named_vars(&vm);
    let params: usize = vars.iter().map(|(_, v)| v.elem_count()).sum();
    let o = &cfg.optim;
    let mut opt: Box<dyn TrainOptimizer> = match o.kind {
        OptimKind::Adan => Box::new(Adan::new(vars.clone(), ParamsAdan { lr: o.lr, weight_decay: o.weight_decay, ..Default::default() })?),
        OptimKind::Adamw => {
            Box::new(AdamW::new(vars.clone(), candle_nn::ParamsAdamW { lr: o.lr, weight_decay: o.weight_decay, ..Default::default() })?)
        }
    };
    let norm = MotionNorm::new(&mean, &std, MIN_STD, &dev)?;
    let mstats = MotionStats { mean, std };
    let (ckpt, opt_path, state_path) =
        (out.join("checkpoint.safetensors"), out.join("optimizer.safetensors"), out.join("train-state.json"));
    let (log_path, png, card) = (out.join("log.jsonl"), out.join("loss.png"), out.join("model-card.md"));
    let mut state = State { step: 0, elapsed_s: 0.0, train_s: 0.0 };
    let mut history: Vec<LogRecord> = Vec::new();
    if resume {
        let text = std::fs::read_to_string(&state_path).map_err(io(&state_path))?;
        state = serde_json::from_str(&text).map_err(|e| TrainError::Resume(format!("{}: {e}", state_path.display())))?;
        let mut vm2 = vm.clone();
        vm2.load(&ckpt)?;
        let st: HashMap<String, Tensor> = candle_core::safetensors::load(&opt_path, &dev)?;
        opt.load_state(&st)?;
        if opt.steps_done() != state.step {
            return Err(TrainError::Resume(format!("optimiser at step {}, state at {}", opt.steps_done(), state.step)));
        }
        history = read_log(&log_path, state.step);
        rewrite_log(&log_path, &history)?;
    } else if log_path.exists() {
        std::fs::remove_file(&log_path).map_err(io(&log_path))?;
    }
    let mut run = Run {
        cfg,
        dev,
        vm,
        model,
        sched: NoiseSchedule::seed_default(&Device::Cpu)?,
        norm,
        train: train_data,
        val,
        order: (0, Vec::new()),
    };
    let s = &cfg.schedule;
    let start = state.step;
    let bar = if s.progress { ProgressBar::new(s.steps as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} [{elapsed_precise}<{eta_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(start as u64);
    let (mut first_loss, mut last_loss) = (f32::NAN, f32::NAN);
    let mut acc = [0f64; 5];
    let mut acc_n = 0usize;
    let mut train_s_session = 0.0f64;
    let mut last_val: Option<LogRecord> = history.iter().rev().find(|r| r.val_loss.is_some()).cloned();
    let session_t0 = state.elapsed_s;
    let save = |run: &Run, opt: &dyn TrainOptimizer, st: &State, hist: &[LogRecord], lv: Option<&LogRecord>| -> Result<(), TrainError> {
        let tmp = out.join("checkpoint.safetensors.tmp");
        save_checkpoint_as(&tmp, &run.vm, &mcfg, Some(&mstats), Some(manifest.contract.name()))?;
        rename(&tmp, &ckpt)?;
        let tmp = out.join("optimizer.safetensors.tmp");
        candle_core::safetensors::save(&opt.state()?, &tmp)?;
        rename(&tmp, &opt_path)?;
        let text = serde_json::to_string_pretty(st).map_err(|e| TrainError::Data(e.to_string()))?;
        std::fs::write(&state_path, text).map_err(io(&state_path))?;
        if !hist.is_empty() {
            plot_losses(&png, hist)?;
        }
        let sps = if st.train_s > 0.0 { (st.step * s.batch_size) as f64 / st.train_s } else { 0.0 };
        let info = CardInfo {
            manifest: &manifest,
            config: cfg,
            params,
            step: st.step,
            wall_s: st.elapsed_s,
            samples_per_s: sps,
            s_per_step: if st.step > 0 { st.train_s / st.step as f64 } else { 0.0 },
            last: hist.last(),
            last_val: lv,
        };
        write_model_card(&card, &info)
    };
    for k in start..s.steps {
        let ts = Instant::now();
        let warm = if o.warmup_steps > 0 { ((k + 1) as f64 / o.warmup_steps as f64).min(1.0) } else { 1.0 };
        let lr = o.lr * warm;
        let mut rng = step_rng(cfg.seed, k, 0);
        let (x0, pose) = run.batch(k, &mut rng)?;
        let lc = run.loss_config(k, cfg.model.cond_drop);
        let parts = diffusion_loss(&run.model, &run.sched, &lc, &x0, &pose, k, &mut rng)?;
        if !parts.value.is_finite() {
            return Err(TrainError::Diverged(k));
        }
        let mut grads = parts.total.backward()?;
        if o.grad_clip > 0.0 {
            let mut sq = 0f64;
            for (_, v) in &vars {
                if let Some(g) = grads.get(v) {
                    sq += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
                }
            }
            let norm = sq.sqrt();
            if norm > o.grad_clip {
                for (_, v) in &vars {
                    if let Some(g) = grads.get(v) {
                        let scaled = (g * (o.grad_clip / norm))?;
                        grads.insert(v.as_tensor(), scaled);
                    }
                }
            }
        }
        opt.set_lr(lr);
        opt.step(&grads)?;
        let dt = ts.elapsed().as_secs_f64();
        train_s_session += dt;
        state.train_s += dt;
        if first_loss.is_nan() {
            first_loss = parts.value;
        }
        last_loss = parts.value;
        for (a, v) in acc.iter_mut().zip([parts.value, parts.x0, parts.vel, parts.joints, parts.foot]) {
            *a += v as f64;
        }
        acc_n += 1;
        let done = k + 1;
        state.step = done;
        state.elapsed_s = session_t0 + t0.elapsed().as_secs_f64();
        let is_val = done == s.steps || (s.val_every > 0 && done % s.val_every == 0);
        let is_ckpt = done == s.steps || (s.checkpoint_every > 0 && done % s.checkpoint_every == 0);
        if done % s.log_every.max(1) == 0 || is_val || is_ckpt {
            let n = acc_n.max(1) as f64;
            let mut r = LogRecord {
                step: done,
                time: state.elapsed_s,
                lr,
                loss: (acc[0] / n) as f32,
                x0: (acc[1] / n) as f32,
                vel: (acc[2] / n) as f32,
                joints: (acc[3] / n) as f32,
                foot: (acc[4] / n) as f32,
                samples_per_s: (done - start) as f64 * s.batch_size as f64 / train_s_session.max(1e-9),
                ..Default::default()
            };
            if is_val {
                if let Some((vl, vx, vj, mp)) = run.validate(k)? {
                    r.val_loss = Some(vl);
                    r.val_x0 = Some(vx);
                    r.val_joints = Some(vj);
                    r.val_mpjpe_mm = Some(mp);
                    last_val = Some(r.clone());
                    bar.println(format!("step {done}: val loss {vl:.4} x0 {vx:.4} joints {vj:.5} MPJPE {mp:.1} mm"));
                }
            }
            bar.set_message(format!(
                "loss {:.4} x0 {:.4} vel {:.4} j {:.5} foot {:.2e} | {:.2} it/s {:.1} samples/s",
                r.loss,
                r.x0,
                r.vel,
                r.joints,
                r.foot,
                (done - start) as f64 / train_s_session.max(1e-9),
                r.samples_per_s
            ));
            append_log(&log_path, &r)?;
            history.push(r);
            acc = [0.0; 5];
            acc_n = 0;
        }
        bar.set_position(done as u64);
        if is_ckpt {
            state.elapsed_s = session_t0 + t0.elapsed().as_secs_f64();
            save(&run, opt.as_ref(), &state, &history, last_val.as_ref())?;
        }
    }
    bar.finish();
    let steps_run = state.step - start;
    Ok(TrainReport {
        out_dir: out.clone(),
        start_step: start,
        steps: state.step,
        params,
        wall_s: t0.elapsed().as_secs_f64(),
        samples_per_s: steps_run as f64 * s.batch_size as f64 / train_s_session.max(1e-9),
        s_per_step: train_s_session / steps_run.max(1) as f64,
        first_loss,
        last_loss,
        last: history.last().cloned(),
        last_val,
    })
}
