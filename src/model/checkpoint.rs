//! Denoiser checkpoint format `mocapd.denoiser/1`: one safetensors file holding the weights
//! (keys as built by [`Denoiser::new`]), the [`ModelConfig`] as JSON in the header metadata
//! (`format`, `config`), and optional per-feature motion normalisation stats (`stats.mean`,
//! `stats.std`, \[motion_dim\]). Training saves from its `VarMap`; inference loads plain tensors
//! (fused kernels). Model per ViMo §3.3.
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use safetensors::tensor::{Dtype, SafeTensors, View};

use super::{Denoiser, ModelConfig};

pub const FORMAT: &str = "mocapd.denoiser/1";
/// Metadata key of the motion contract (the same as `crate::motion::contract::METADATA_KEY`).
pub const CONTRACT_KEY: &str = "motion_contract";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("checkpoint {path}: not a safetensors file: {msg}")]
    Format { path: PathBuf, msg: String },
    #[error("checkpoint {path}: no `{key}` metadata; not a {FORMAT} checkpoint")]
    MissingMeta { path: PathBuf, key: &'static str },
    #[error("checkpoint {path}: format `{found}`, this build reads `{FORMAT}`")]
    Version { path: PathBuf, found: String },
    #[error("checkpoint {path}: bad config: {msg}")]
    Config { path: PathBuf, msg: String },
    #[error("checkpoint {path}: {source}")]
    Tensor { path: PathBuf, source: candle_core::Error },
}

/// Per-feature normalisation of motion vectors: model space = (x − mean) / std.
#[derive(Debug, Clone, PartialEq)]
pub struct MotionStats {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

pub struct Checkpoint {
    pub config: ModelConfig,
    pub stats: Option<MotionStats>,
    /// The motion contract the model was trained under (metadata `motion_contract`, written by
    /// [`save_checkpoint_as`]; `None` in checkpoints from before it was recorded).
    pub contract: Option<String>,
    pub model: Denoiser,
}

/// f32 tensor bytes for the safetensors 0.7 writer.
struct Raw {
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Raw {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn raw(t: &Tensor) -> candle_core::Result<Raw> {
    let v = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    Ok(Raw { shape: t.dims().to_vec(), bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect() })
}

/// Writes a randomly initialised model of `cfg` (e.g. [`ModelConfig::tiny`]) with `stats` to
/// `path`: a real checkpoint for tests and smoke runs that need no trained weights.
pub fn save_random_checkpoint(path: &Path, cfg: &ModelConfig, stats: Option<&MotionStats>) -> Result<(), CheckpointError> {
    save_random_checkpoint_as(path, cfg, stats, None)
}

/// [`save_random_checkpoint`] recording a motion contract ([`save_checkpoint_as`]).
pub fn save_random_checkpoint_as(
    path: &Path,
    cfg: &ModelConfig,
    stats: Option<&MotionStats>,
    contract: Option<&str>,
) -> Result<(), CheckpointError> {
    let vm = VarMap::new();
    crate::model::Denoiser::new(cfg, candle_nn::VarBuilder::from_varmap(&vm, DType::F32, &candle_core::Device::Cpu))
        .map_err(|source| CheckpointError::Tensor { path: path.to_path_buf(), source })?;
    save_checkpoint_as(path, &vm, cfg, stats, contract)
}

/// Writes weights, config and stats to `path` (no motion contract recorded).
pub fn save_checkpoint(path: &Path, vars: &VarMap, cfg: &ModelConfig, stats: Option<&MotionStats>) -> Result<(), CheckpointError> {
    save_checkpoint_as(path, vars, cfg, stats, None)
}

/// Writes weights, config, stats and the name of the motion contract the model was trained
/// under (`crate::motion::Contract`) to `path`.
pub fn save_checkpoint_as(
    path: &Path,
    vars: &VarMap,
    cfg: &ModelConfig,
    stats: Option<&MotionStats>,
    contract: Option<&str>,
) -> Result<(), CheckpointError> {
    let p = || path.to_path_buf();
    let tensor_err = |source| CheckpointError::Tensor { path: p(), source };
    let mut out: Vec<(String, Raw)> = Vec::new();
    for (k, v) in vars.data().lock().expect("VarMap lock").iter() {
        out.push((k.clone(), raw(v.as_tensor()).map_err(tensor_err)?));
    }
    if let Some(s) = stats {
        for (k, v) in [("stats.mean", &s.mean), ("stats.std", &s.std)] {
            out.push((k.into(), Raw { shape: vec![v.len()], bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect() }));
        }
    }
    let config = serde_json::to_string(cfg).map_err(|e| CheckpointError::Config { path: p(), msg: e.to_string() })?;
    let mut meta = HashMap::from([("format".to_string(), FORMAT.to_string()), ("config".to_string(), config)]);
    if let Some(c) = contract {
        meta.insert(CONTRACT_KEY.to_string(), c.to_string());
    }
    safetensors::serialize_to_file(out.iter().map(|(k, v)| (k.as_str(), v)), Some(meta), path)
        .map_err(|e| CheckpointError::Format { path: p(), msg: e.to_string() })
}

/// Reads a checkpoint and builds the denoiser on `dev` for inference.
pub fn load_checkpoint(path: &Path, dev: &Device) -> Result<Checkpoint, CheckpointError> {
    let p = || path.to_path_buf();
    let buf = std::fs::read(path).map_err(|source| CheckpointError::Io { path: p(), source })?;
    let (_, meta) = SafeTensors::read_metadata(&buf).map_err(|e| CheckpointError::Format { path: p(), msg: e.to_string() })?;
    let md = meta.metadata().clone().unwrap_or_default();
    let format = md.get("format").ok_or(CheckpointError::MissingMeta { path: p(), key: "format" })?;
    if format != FORMAT {
        return Err(CheckpointError::Version { path: p(), found: format.clone() });
    }
    let cfg_json = md.get("config").ok_or(CheckpointError::MissingMeta { path: p(), key: "config" })?;
    let config: ModelConfig = serde_json::from_str(cfg_json).map_err(|e| CheckpointError::Config { path: p(), msg: e.to_string() })?;
    config.validate().map_err(|msg| CheckpointError::Config { path: p(), msg })?;
    let tensor_err = |source| CheckpointError::Tensor { path: p(), source };
    let mut tensors = candle_core::safetensors::load_buffer(&buf, dev).map_err(tensor_err)?;
    let stats = match (tensors.remove("stats.mean"), tensors.remove("stats.std")) {
        (Some(m), Some(s)) => {
            Some(MotionStats { mean: m.to_vec1::<f32>().map_err(tensor_err)?, std: s.to_vec1::<f32>().map_err(tensor_err)? })
        }
        _ => None,
    };
    let model = Denoiser::new(&config, VarBuilder::from_tensors(tensors, DType::F32, dev)).map_err(tensor_err)?;
    Ok(Checkpoint { config, stats, contract: md.get(CONTRACT_KEY).cloned(), model })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_errors() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let cfg = ModelConfig { film: super::super::FilmVariant::V2, ..ModelConfig::tiny(16) };
        let vm = VarMap::new();
        let _ = Denoiser::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        let stats = MotionStats { mean: (0..151).map(|i| i as f32).collect(), std: vec![2.0; 151] };
        let dir = tempfile::tempdir().map_err(candle_core::Error::wrap)?;
        let path = dir.path().join("ckpt.safetensors");
        save_checkpoint(&path, &vm, &cfg, Some(&stats)).map_err(candle_core::Error::wrap)?;
        let ck = load_checkpoint(&path, &dev).map_err(candle_core::Error::wrap)?;
        assert_eq!(ck.config, cfg);
        assert_eq!(ck.stats.as_ref(), Some(&stats));
        // bit-identical to a plain-tensor model built from the same VarMap
        let plain: HashMap<String, Tensor> = vm.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.as_tensor().detach())).collect();
        let m2 = Denoiser::new(&cfg, VarBuilder::from_tensors(plain, DType::F32, &dev))?;
        let pose = Tensor::rand(0f32, 1., (1, 16, 17, 3), &dev)?;
        let x = Tensor::randn(0f32, 1., (1, 16, 151), &dev)?;
        let t = Tensor::new(&[300u32], &dev)?;
        let a = ck.model.forward(&x, &t, &ck.model.encode(&pose, false)?)?.flatten_all()?.to_vec1::<f32>()?;
        let b = m2.forward(&x, &t, &m2.encode(&pose, false)?)?.flatten_all()?.to_vec1::<f32>()?;
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        // errors: missing file, plain VarMap file without metadata
        assert!(matches!(load_checkpoint(&dir.path().join("nope"), &dev), Err(CheckpointError::Io { .. })));
        let bare = dir.path().join("bare.safetensors");
        vm.save(&bare)?;
        let e = load_checkpoint(&bare, &dev).err().expect("bare VarMap file must be rejected");
        assert!(matches!(e, CheckpointError::MissingMeta { key: "format", .. }), "{e}");
        std::fs::write(&bare, b"junk").map_err(candle_core::Error::wrap)?;
        assert!(matches!(load_checkpoint(&bare, &dev), Err(CheckpointError::Format { .. })));
        Ok(())
    }
}
