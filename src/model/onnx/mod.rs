//! The ONNX Runtime inference path of the denoiser: the per-step forward x̂0 = D(x_t, t, cond)
//! exported in memory from the loaded candle [`Denoiser`](crate::model::Denoiser) and run by
//! ONNX Runtime ([`OnnxDenoiser`]).
//!
//! Why: the target is a small-model 4-step DDIM update (w = 0) in ≤ 20 ms on 2 cores;
//! candle's element-wise ops and temporaries dominate at d = 128 (~22-28 ms per update), ONNX
//! Runtime runs the same forward 2-3x faster (the
//! README's "The denoiser on ONNX Runtime" has this project's numbers).
//! Training and the checkpoint format stay candle; the pose encoder and the per-window
//! [`PoseCondition`](crate::model::PoseCondition) (cross-attention K/V, FiLM pose part) are still
//! computed by candle once per window and become graph inputs. Nothing is written to disk: the
//! graph is generated at load time from the checkpoint's weights. [`Engine`] is the choice
//! (`[pipeline] engine`, `--engine`); the parity test keeps both within 1e-4.
pub mod export;
pub mod proto;
pub mod session;

pub use session::OnnxDenoiser;

use crate::onnxrt::OrtError;

/// Which engine runs the denoiser's per-step forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// candle (the training code path).
    Candle,
    /// ONNX Runtime, on a graph generated from the candle model (faster on CPU).
    #[default]
    OnnxRuntime,
}

impl Engine {
    pub const NAMES: &'static str = "candle, onnxruntime";

    pub fn name(self) -> &'static str {
        match self {
            Engine::Candle => "candle",
            Engine::OnnxRuntime => "onnxruntime",
        }
    }
}

impl std::str::FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "candle" => Ok(Engine::Candle),
            "onnxruntime" | "ort" => Ok(Engine::OnnxRuntime),
            other => Err(format!("'{other}' is not one of: {}", Engine::NAMES)),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Errors of the ONNX Runtime denoiser path.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The library is missing or does not load (the message says where it looked).
    #[error("denoiser engine onnxruntime: {0} (or choose engine \"candle\")")]
    Runtime(#[from] OrtError),
    #[error("exporting the denoiser to ONNX: {0}")]
    Export(candle_core::Error),
    #[error("ONNX Runtime rejected the generated denoiser graph: {0}")]
    Session(String),
    #[error("denoiser forward on ONNX Runtime: {0}")]
    Run(String),
    #[error("denoiser forward on ONNX Runtime: bad input: {0}")]
    Input(String),
}
