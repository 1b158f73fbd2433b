//! Optimisers with savable state for exact resume: Adan (Xie et al. 2022, "Adan: Adaptive
//! Nesterov Momentum Algorithm", no-prox variant with decoupled weight decay, bias-corrected as
//! in the authors' reference code) and AdamW. Paper notation β1 = 0.02, β2 = 0.08, β3 = 0.01
//! are the weights of the *new* term: m ← (1−β1)m + β1 g, v ← (1−β2)v + β2 (g − g_prev),
//! n ← (1−β3)n + β3 [g + (1−β2)(g − g_prev)]², θ ← θ(1 − ηλ) − η (m̂ + (1−β2) v̂) / (√n̂ + ε).
use std::collections::HashMap;

use candle_core::{backprop::GradStore, DType, Result, Tensor, Var};

/// Adan hyper-parameters (paper notation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamsAdan {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub beta3: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for ParamsAdan {
    fn default() -> Self {
        Self { lr: 1e-4, beta1: 0.02, beta2: 0.08, beta3: 0.01, eps: 1e-8, weight_decay: 0.02 }
    }
}

/// An optimiser over named variables whose state can be saved and restored.
pub trait TrainOptimizer {
    fn step(&mut self, grads: &GradStore) -> Result<()>;
    fn set_lr(&mut self, lr: f64);
    fn steps_done(&self) -> usize;
    /// State tensors by name (moments per variable + `step`).
    fn state(&self) -> Result<HashMap<String, Tensor>>;
    /// Restores what [`TrainOptimizer::state`] returned.
    fn load_state(&mut self, s: &HashMap<String, Tensor>) -> Result<()>;
}

struct Slot {
    name: String,
    var: Var,
    /// Moment tensors (Adan: m, v, n, prev grad; AdamW: m, v).
    moments: Vec<Tensor>,
}

fn slots(vars: Vec<(String, Var)>, k: usize) -> Result<Vec<Slot>> {
    vars.into_iter()
        .filter(|(_, v)| v.dtype().is_float())
        .map(|(name, var)| {
            let z = var.as_tensor().zeros_like()?;
            Ok(Slot { name, var, moments: vec![z; k] })
        })
        .collect()
}

fn save(slots: &[Slot], names: &[&str], step: usize) -> Result<HashMap<String, Tensor>> {
    let mut m = HashMap::new();
    for s in slots {
        for (t, n) in s.moments.iter().zip(names) {
            m.insert(format!("{}.{n}", s.name), t.clone());
        }
    }
    let dev = slots.first().map(|s| s.var.device().clone()).unwrap_or(candle_core::Device::Cpu);
    m.insert("step".into(), Tensor::new(&[step as i64], &dev)?);
    Ok(m)
}

fn load(slots: &mut [Slot], names: &[&str], st: &HashMap<String, Tensor>) -> Result<usize> {
    for s in slots.iter_mut() {
        for (t, n) in s.moments.iter_mut().zip(names) {
            let key = format!("{}.{n}", s.name);
            let v = st.get(&key).ok_or_else(|| candle_core::Error::msg(format!("optimiser state lacks {key}")))?;
            *t = v.to_dtype(s.var.dtype())?.to_device(s.var.device())?;
        }
    }
    let step = st.get("step").ok_or_else(|| candle_core::Error::msg("optimiser state lacks step"))?;
    Ok(step.to_dtype(DType::I64)?.flatten_all()?.to_vec1::<i64>()?.first().copied().unwrap_or(0).max(0) as usize)
}

pub struct Adan {
    slots: Vec<Slot>,
    pub params: ParamsAdan,
    step: usize,
}

const ADAN_STATE: [&str; 4] = ["m", "v", "n", "g_prev"];

impl Adan {
    pub fn new(vars: Vec<(String, Var)>, params: ParamsAdan) -> Result<Self> {
        Ok(Self { slots: slots(vars, 4)?, params, step: 0 })
    }
}

impl TrainOptimizer for Adan {
    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let p = self.params;
        let k = self.step as i32;
        let bc1 = 1.0 - (1.0 - p.beta1).powi(k);
        let bc2 = 1.0 - (1.0 - p.beta2).powi(k);
        let bc3 = (1.0 - (1.0 - p.beta3).powi(k)).sqrt();
        for s in self.slots.iter_mut() {
            let Some(g) = grads.get(&s.var) else { continue };
            // first step: g_prev = g, so the difference term starts at zero
            let diff = if self.step == 1 { g.zeros_like()? } else { (g - &s.moments[3])? };
            let m = ((&s.moments[0] * (1.0 - p.beta1))? + (g * p.beta1)?)?;
            let v = ((&s.moments[1] * (1.0 - p.beta2))? + (&diff * p.beta2)?)?;
            let u = (g + (&diff * (1.0 - p.beta2))?)?;
            let n = ((&s.moments[2] * (1.0 - p.beta3))? + (u.sqr()? * p.beta3)?)?;
            let denom = ((n.sqrt()? / bc3)? + p.eps)?;
            let upd = (((&m / bc1)? + (&v * ((1.0 - p.beta2) / bc2))?)? / denom)?;
            let theta = ((s.var.as_tensor() * (1.0 - p.lr * p.weight_decay))? - (upd * p.lr)?)?;
            s.var.set(&theta)?;
            s.moments = vec![m, v, n, g.clone()];
        }
        Ok(())
    }
    fn set_lr(&mut self, lr: f64) {
        self.params.lr = lr;
    }
    fn steps_done(&self) -> usize {
        self.step
    }
    fn state(&self) -> Result<HashMap<String, Tensor>> {
        save(&self.slots, &ADAN_STATE, self.step)
    }
    fn load_state(&mut self, s: &HashMap<String, Tensor>) -> Result<()> {
        self.step = load(&mut self.slots, &ADAN_STATE, s)?;
        Ok(())
    }
}

/// AdamW (decoupled weight decay), same update as `candle_nn::AdamW`, with savable state.
pub struct AdamW {
    slots: Vec<Slot>,
    pub params: candle_nn::ParamsAdamW,
    step: usize,
}

impl AdamW {
    pub fn new(vars: Vec<(String, Var)>, params: candle_nn::ParamsAdamW) -> Result<Self> {
        Ok(Self { slots: slots(vars, 2)?, params, step: 0 })
    }
}

impl TrainOptimizer for AdamW {
    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let p = &self.params;
        let k = self.step as i32;
        let (bc1, bc2) = (1.0 - p.beta1.powi(k), 1.0 - p.beta2.powi(k));
        for s in self.slots.iter_mut() {
            let Some(g) = grads.get(&s.var) else { continue };
            let m = ((&s.moments[0] * p.beta1)? + (g * (1.0 - p.beta1))?)?;
            let v = ((&s.moments[1] * p.beta2)? + (g.sqr()? * (1.0 - p.beta2))?)?;
            let upd = ((&m / bc1)? / ((&v / bc2)?.sqrt()? + p.eps)?)?;
            let theta = ((s.var.as_tensor() * (1.0 - p.lr * p.weight_decay))? - (upd * p.lr)?)?;
            s.var.set(&theta)?;
            s.moments = vec![m, v];
        }
        Ok(())
    }
    fn set_lr(&mut self, lr: f64) {
        self.params.lr = lr;
    }
    fn steps_done(&self) -> usize {
        self.step
    }
    fn state(&self) -> Result<HashMap<String, Tensor>> {
        save(&self.slots, &["m", "v"], self.step)
    }
    fn load_state(&mut self, s: &HashMap<String, Tensor>) -> Result<()> {
        self.step = load(&mut self.slots, &["m", "v"], s)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Two Adan steps on θ = 1 with loss 0.5·θ² + θ·c (gradient θ + c), by hand.
    #[test]
    fn adan_matches_hand_computation() -> Result<()> {
        let dev = Device::Cpu;
        let var = Var::new(&[1.0f32], &dev)?;
        let p = ParamsAdan { lr: 0.1, weight_decay: 0.5, ..Default::default() };
        let mut opt = Adan::new(vec![("x".into(), var.clone())], p)?;
        let (b1, b2, b3, eps) = (0.02f64, 0.08f64, 0.01f64, 1e-8f64);
        let (mut th, mut m, mut v, mut n, mut gp) = (1.0f64, 0.0, 0.0, 0.0, 0.0);
        for k in 1..=2 {
            let c = if k == 1 { 2.0 } else { -3.0 };
            let loss = ((var.as_tensor().sqr()? * 0.5)? + (var.as_tensor() * c)?)?.sum_all()?;
            opt.step(&loss.backward()?)?;
            // hand computation
            let g = th + c;
            let d = if k == 1 { 0.0 } else { g - gp };
            m = (1.0 - b1) * m + b1 * g;
            v = (1.0 - b2) * v + b2 * d;
            n = (1.0 - b3) * n + b3 * (g + (1.0 - b2) * d).powi(2);
            let mh = m / (1.0 - (1.0 - b1).powi(k));
            let vh = v / (1.0 - (1.0 - b2).powi(k));
            let nh = (n / (1.0 - (1.0 - b3).powi(k))).sqrt();
            th = th * (1.0 - 0.1 * 0.5) - 0.1 * (mh + (1.0 - b2) * vh) / (nh + eps);
            gp = g;
            let got = var.as_tensor().to_vec1::<f32>()?[0] as f64;
            assert!((got - th).abs() < 1e-6, "step {k}: {got} vs {th}");
        }
        // concrete value of step 1: θ = 1·0.95 − 0.1·(3/3) = 0.85
        assert_eq!(opt.steps_done(), 2);
        // state round trip
        let st = opt.state()?;
        let mut o2 = Adan::new(vec![("x".into(), var.clone())], p)?;
        o2.load_state(&st)?;
        assert_eq!(o2.steps_done(), 2);
        Ok(())
    }

    #[test]
    fn adan_first_step_value() -> Result<()> {
        let var = Var::new(&[1.0f32], &Device::Cpu)?;
        let mut opt = Adan::new(vec![("x".into(), var.clone())], ParamsAdan { lr: 0.1, weight_decay: 0.5, ..Default::default() })?;
        let loss = ((var.as_tensor() * 3.0)?).sum_all()?; // g = 3
        opt.step(&loss.backward()?)?;
        // m̂ = 3, v̂ = 0, √n̂ = 3 → θ = 0.95 − 0.1
        assert!((var.as_tensor().to_vec1::<f32>()?[0] - 0.85).abs() < 1e-6);
        Ok(())
    }
}
