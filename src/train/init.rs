//! Seeded weight initialisation: candle's CPU RNG cannot be seeded, so the training `VarMap` is
//! filled through this backend, which follows the same `Init` hints as `VarMap::get` but draws
//! from a `StdRng` seeded by (run seed, variable name). Same seed → same initial weights.
use candle_core::{DType, Device, Result, Shape, Tensor, Var};
use candle_nn::init::NormalOrUniform;
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

struct Seeded {
    vm: VarMap,
    seed: u64,
}

/// FNV-1a of the name, mixed with the seed.
fn name_seed(seed: u64, name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64 ^ seed, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

fn draw(shape: &Shape, init: Init, rng: &mut rand::rngs::StdRng) -> Vec<f32> {
    let n = shape.elem_count();
    let normal = |rng: &mut rand::rngs::StdRng, mean: f64, std: f64| (mean + std * rng.sample::<f64, _>(StandardNormal)) as f32;
    match init {
        Init::Const(c) => vec![c as f32; n],
        Init::Uniform { lo, up } => (0..n).map(|_| rng.random_range(lo..=up) as f32).collect(),
        Init::Randn { mean, stdev } => (0..n).map(|_| normal(rng, mean, stdev)).collect(),
        Init::Kaiming { dist, fan, non_linearity } => {
            let std = non_linearity.gain() / (fan.for_shape(shape) as f64).sqrt();
            match dist {
                NormalOrUniform::Uniform => {
                    let b = 3f64.sqrt() * std;
                    (0..n).map(|_| rng.random_range(-b..=b) as f32).collect()
                }
                NormalOrUniform::Normal => (0..n).map(|_| normal(rng, 0.0, std)).collect(),
            }
        }
    }
}

impl SimpleBackend for Seeded {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        let mut map = self.vm.data().lock().map_err(|_| candle_core::Error::msg("VarMap lock poisoned"))?;
        if let Some(v) = map.get(name) {
            if v.shape() != &s {
                candle_core::bail!("shape mismatch for {name}: {:?} vs {:?}", v.shape(), s);
            }
            return Ok(v.as_tensor().clone());
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(name_seed(self.seed, name));
        let t = Tensor::from_vec(draw(&s, h, &mut rng), s, dev)?.to_dtype(dtype)?;
        let var = Var::from_tensor(&t)?;
        let out = var.as_tensor().clone();
        map.insert(name.to_string(), var);
        Ok(out)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> Result<Tensor> {
        candle_core::bail!("seeded init: `{name}` needs a shape")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.vm.data().lock().map(|m| m.contains_key(name)).unwrap_or(false)
    }
}

/// A `VarBuilder` that creates seeded variables in `vm` (which shares its storage).
pub fn seeded_builder(vm: &VarMap, seed: u64, dev: &Device) -> VarBuilder<'static> {
    VarBuilder::from_backend(Box::new(Seeded { vm: vm.clone(), seed }), DType::F32, dev.clone())
}

/// The variables of `vm`, sorted by name (a stable order for optimiser state).
pub fn named_vars(vm: &VarMap) -> Vec<(String, Var)> {
    let mut v: Vec<(String, Var)> = match vm.data().lock() {
        Ok(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Err(_) => Vec::new(),
    };
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}
