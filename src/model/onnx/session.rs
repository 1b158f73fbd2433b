//! [`OnnxDenoiser`]: an ONNX Runtime session on the graph [`export`](super::export) generates
//! from a loaded candle denoiser (one intra-op and one inter-op thread, the process-wide
//! environment of [`crate::onnxrt`]), and its forward on candle tensors.
use std::path::Path;
use std::sync::Mutex;

use candle_core::{DType, Device, Tensor};
use ort::session::SessionInputValue;
use ort::session::{builder::GraphOptimizationLevel, Session};
use ort::value::TensorRef;

use super::export::{export, input_names};
use super::OnnxError;
use crate::model::timestep::per_frame_t;
use crate::model::{Denoiser, PoseCondition};
use crate::onnxrt::environment;

/// The denoiser's per-step forward on ONNX Runtime (the pose encoder and the per-window
/// condition stay in candle).
pub struct OnnxDenoiser {
    /// `Session::run` needs `&mut`; the sampler's models are shared (`&self`).
    session: Mutex<Session>,
    blocks: usize,
    frame_cond: bool,
    motion_dim: usize,
    frames: usize,
}

impl std::fmt::Debug for OnnxDenoiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxDenoiser").field("blocks", &self.blocks).field("frames", &self.frames).finish_non_exhaustive()
    }
}

fn run_err(e: impl std::fmt::Display) -> OnnxError {
    OnnxError::Run(e.to_string())
}

impl OnnxDenoiser {
    /// Exports `model`'s forward and loads it into ONNX Runtime (library from `library`, else
    /// `ORT_DYLIB_PATH`, else `.local/onnxruntime/`: [`crate::onnxrt::find_library`]), then runs it
    /// once so the first update is not slow.
    pub fn new(model: &Denoiser, library: Option<&Path>) -> Result<Self, OnnxError> {
        let env = environment(library)?;
        let bytes = export(model).map_err(OnnxError::Export)?;
        let session = Session::builder(&env)
            .and_then(|b| b.with_optimization_level(GraphOptimizationLevel::Level3).map_err(Into::into))
            .and_then(|b| b.with_intra_threads(1).map_err(Into::into))
            .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
            .and_then(|mut b| b.commit_from_memory(&bytes))
            .map_err(|e| OnnxError::Session(e.to_string()))?;
        let cfg = model.config();
        let me = Self {
            session: Mutex::new(session),
            blocks: cfg.n_blocks,
            frame_cond: cfg.frame_cond,
            motion_dim: cfg.motion_dim,
            frames: cfg.frames,
        };
        let (b, s) = (1, cfg.frames);
        let cond = model.condition(model.encoder().null(b, s).map_err(OnnxError::Export)?).map_err(OnnxError::Export)?;
        let x = Tensor::zeros((b, s, cfg.motion_dim), DType::F32, &Device::Cpu).map_err(OnnxError::Export)?;
        let t = Tensor::zeros(b, DType::F32, &Device::Cpu).map_err(OnnxError::Export)?;
        me.forward(&x, &t, &cond)?;
        Ok(me)
    }

    /// x̂0 = D(x_t, t, cond), as [`Denoiser::forward`]: x_t \[B, S, motion_dim\], t \[\], \[B\] or
    /// \[B, S\] (any dtype), S ≤ frames.
    pub fn forward(&self, x_t: &Tensor, t: &Tensor, cond: &PoseCondition) -> Result<Tensor, OnnxError> {
        let bad = |e: candle_core::Error| OnnxError::Input(e.to_string());
        let (b, s, m) = x_t.dims3().map_err(bad)?;
        if m != self.motion_dim
            || s > self.frames
            || b != cond.batch()
            || cond.blocks.len() != self.blocks
            || cond.frame.is_some() != self.frame_cond
        {
            return Err(OnnxError::Input(format!(
                "x_t {:?} with a condition of batch {} and {} blocks does not fit motion_dim {}, frames {}, {} blocks",
                x_t.dims(),
                cond.batch(),
                cond.blocks.len(),
                self.motion_dim,
                self.frames,
                self.blocks
            )));
        }
        let t = per_frame_t(t, b, s).map_err(bad)?;
        let mut tensors: Vec<&Tensor> = vec![x_t, &t];
        for bc in &cond.blocks {
            tensors.extend([&bc.kv.k_t, &bc.kv.v, &bc.film_p]);
        }
        if let Some(f) = &cond.frame {
            tensors.push(f);
        }
        let host: Vec<(Vec<usize>, Vec<f32>)> = tensors
            .iter()
            .map(|t| Ok((t.dims().to_vec(), t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)))
            .collect::<candle_core::Result<_>>()
            .map_err(bad)?;
        let values: Vec<SessionInputValue> = host
            .iter()
            .map(|(dims, data)| TensorRef::from_array_view((dims.clone(), data.as_slice())).map(SessionInputValue::from))
            .collect::<ort::Result<_>>()
            .map_err(run_err)?;
        debug_assert_eq!(values.len(), input_names(self.blocks, self.frame_cond).len());
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session.run(values.as_slice()).map_err(run_err)?;
        let (_, data) = outputs[0].try_extract_tensor::<f32>().map_err(run_err)?;
        Tensor::from_slice(data, (b, s, m), &Device::Cpu).map_err(|e| OnnxError::Run(e.to_string()))
    }
}
