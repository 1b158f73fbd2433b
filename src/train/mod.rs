//! Training of the ViMo denoiser (ViMo §3.3 (iv),
//! §3.4, §IV). This file assembles one step's loss: PTSS timesteps, forward noising, per-sample
//! condition dropout (CFG), x0 prediction, SNR-weighted x0 loss + λ_vel L_vel (6D rotations) +
//! λ_joints L_joints + λ_foot L_foot (FK on de-normalised motion, [`losses`]).
//! [`config`]: `TrainConfig`; [`adan`]: Adan/AdamW with savable state; [`data`]: shards in
//! memory; [`trainer`]: the loop ([`train`]); [`report`]: log, loss plot, model card;
//! [`compare`]: validation curves of several runs (the ablations).
pub mod adan;
pub mod compare;
pub mod config;
pub mod data;
pub mod init;
pub mod losses;
pub mod report;
pub mod trainer;

pub use config::TrainConfig;
pub use trainer::{train, TrainError, TrainReport};

use candle_core::{DType, Result, Tensor, D};
use rand::Rng;

use crate::diffusion::{randn, weighted_x0_loss, LossWeighting, NoiseSchedule, PtssSampler};
use crate::model::Denoiser;

/// Rotation features at the start of each frame: 24 joints × 6D.
pub const ROT_DIMS: usize = 144;

#[derive(Debug, Clone)]
pub struct LossConfig {
    pub ptss: PtssSampler,
    pub weighting: LossWeighting,
    /// Probability of replacing a clip's condition by ∅ (ViMo: 0.25).
    pub cond_drop: f64,
    /// λ_vel (ViMo's final stable value 0.02).
    pub lambda_vel: f64,
    /// λ_joints (ViMo: 0.1) and λ_foot (ViMo: 0.05); they need `norm` (FK runs on raw motion).
    pub lambda_joints: f64,
    pub lambda_foot: f64,
    /// Motion normalisation of the targets; `None` skips L_joints and L_foot.
    pub norm: Option<losses::MotionNorm>,
}

/// Loss terms of one batch; `total` carries the graph for `backward`.
#[derive(Debug, Clone)]
pub struct LossParts {
    pub total: Tensor,
    pub x0: f32,
    pub vel: f32,
    pub joints: f32,
    pub foot: f32,
    /// Value of `total`.
    pub value: f32,
}

/// L_vel over 6D rotations: w_i ‖(R_{i+1} − R_i) − (R̂_{i+1} − R̂_i)‖² / dims, w per frame [B, S].
pub fn velocity_loss(pred: &Tensor, target: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (_, s, _) = pred.dims3()?;
    if s < 2 {
        return Tensor::zeros((), DType::F32, pred.device());
    }
    let vel = |x: &Tensor| -> Result<Tensor> {
        let r = x.narrow(D::Minus1, 0, ROT_DIMS)?;
        r.narrow(1, 1, s - 1)? - r.narrow(1, 0, s - 1)?
    };
    let err = (vel(pred)? - vel(target)?)?.sqr()?.mean(D::Minus1)?; // [B, S-1]
    (err * w.narrow(1, 1, s - 1)?)?.mean_all()
}

/// One step's loss for clean motion x0 [B, S, 151] and poses [B, S, 17, 3].
pub fn diffusion_loss<R: Rng>(
    model: &Denoiser,
    sched: &NoiseSchedule,
    cfg: &LossConfig,
    x0: &Tensor,
    pose: &Tensor,
    train_step: usize,
    rng: &mut R,
) -> Result<LossParts> {
    let (b, s, _) = x0.dims3()?;
    let dev = x0.device();
    let t = cfg.ptss.sample(rng, b, s, train_step, dev)?;
    let noise = randn(rng, x0.shape(), dev)?;
    let xt = sched.q_sample(x0, &t, &noise)?;
    let drop: Vec<f32> = (0..b).map(|_| if rng.random_bool(cfg.cond_drop.clamp(0.0, 1.0)) { 1.0 } else { 0.0 }).collect();
    let cond = model.encode_with_drop(pose, &Tensor::from_vec(drop, b, dev)?)?;
    let pred = model.forward(&xt, &t, &cond)?;
    let w = cfg.weighting.weights(sched, &t)?; // [B, S]
    let l_x0 = weighted_x0_loss(&pred, x0, &w)?;
    let l_vel = velocity_loss(&pred, x0, &w)?;
    let mut total = (&l_x0 + l_vel.affine(cfg.lambda_vel, 0.0)?)?;
    let (mut joints, mut foot) = (0.0, 0.0);
    if let Some(norm) = &cfg.norm {
        let pred_raw = norm.denormalize(&pred)?;
        let pred_pos = losses::fk_positions(&pred_raw)?;
        let target_pos = losses::fk_positions(&norm.denormalize(x0)?)?.detach();
        let l_j = losses::joints_loss(&pred_pos, &target_pos, &w)?;
        let l_f = losses::foot_loss(&pred_pos, &pred_raw, &w)?;
        joints = l_j.to_scalar()?;
        foot = l_f.to_scalar()?;
        total = ((total + l_j.affine(cfg.lambda_joints, 0.0)?)? + l_f.affine(cfg.lambda_foot, 0.0)?)?;
    }
    Ok(LossParts { x0: l_x0.to_scalar()?, vel: l_vel.to_scalar()?, joints, foot, value: total.to_scalar()?, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diffusion::{PSchedule, Weighting};
    use crate::model::ModelConfig;
    use candle_core::Device;
    use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
    use rand::SeedableRng;

    #[test]
    fn velocity_loss_closed_form() -> Result<()> {
        let dev = Device::Cpu;
        // target static, prediction moves by 1 per frame in every rotation dim → err 1 per pair
        let target = Tensor::zeros((1, 3, 151), DType::F32, &dev)?;
        let ramp = Tensor::new(&[0f32, 1., 2.], &dev)?.reshape((1, 3, 1))?.broadcast_as((1, 3, 151))?;
        let w = Tensor::new(&[[9f32, 1., 3.]], &dev)?; // frame 0's weight unused
        let l = velocity_loss(&ramp.contiguous()?, &target, &w)?.to_scalar::<f32>()?;
        assert!((l - 2.0).abs() < 1e-6);
        Ok(())
    }

    #[test]
    fn loss_assembly_trains() -> Result<()> {
        let dev = Device::Cpu;
        let cfg = ModelConfig::tiny(16);
        let vm = VarMap::new();
        let m = Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        let sched = NoiseSchedule::seed_default(&dev)?;
        let lc = LossConfig {
            ptss: PtssSampler::new(PSchedule::Linear { from: 0.2, to: 0.5, steps: 50 }, 1000),
            weighting: LossWeighting::new(Weighting::recommended(), false),
            cond_drop: 0.25,
            lambda_vel: 0.02,
            lambda_joints: 0.1,
            lambda_foot: 0.05,
            norm: Some(losses::MotionNorm::new(&[0.0; 151], &[1.0; 151], 1e-3, &dev)?),
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let x0 = randn(&mut rng, (2, 16, 151), &dev)?;
        let pose = Tensor::rand(0f32, 1., (2, 16, 17, 3), &dev)?;
        let mut opt = AdamW::new(vm.all_vars(), ParamsAdamW { lr: 3e-3, weight_decay: 0.0, ..Default::default() })?;
        let mut first = 0.0;
        let mut last = 0.0;
        for step in 0..60 {
            let l = diffusion_loss(&m, &sched, &lc, &x0, &pose, step, &mut rng)?;
            assert!(l.x0.is_finite() && l.vel.is_finite() && l.joints.is_finite() && l.foot.is_finite());
            if step < 10 {
                first += l.x0;
            }
            if step >= 50 {
                last += l.x0;
            }
            opt.backward_step(&l.total)?;
        }
        assert!(last < first, "x0 loss did not fall: {first} → {last}");
        Ok(())
    }
}
