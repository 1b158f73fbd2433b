//! `PoseError`: every way pose estimation can fail, with messages that name the file and the fix.

use std::path::PathBuf;

use crate::onnxrt::OrtError;

/// Errors from loading ONNX Runtime and the MoveNet models, and from running them.
#[derive(Debug, thiserror::Error)]
pub enum PoseError {
    /// The ONNX Runtime library is missing or does not load (the message says where it looked).
    #[error(transparent)]
    Runtime(#[from] OrtError),

    #[error("model file '{path}' not found: run tools/setup.sh, or pass --model with an existing .onnx file")]
    ModelNotFound { path: PathBuf },

    #[error("failed to load model '{path}': {message}")]
    ModelLoad { path: PathBuf, message: String },

    /// The model file loads but its inputs/outputs are not what the model kind needs.
    #[error("model '{file}' has {found} but {kind} expects {expected}: pass --model {suggest} or the right file")]
    ModelMismatch { file: String, found: String, kind: &'static str, expected: String, suggest: String },

    #[error("pose inference failed in {stage}: {message}")]
    Inference { stage: &'static str, message: String },

    #[error("bad input frame: {0}")]
    BadFrame(String),

    #[error("invalid pose settings: {0}")]
    Settings(String),
}

impl PoseError {
    pub(crate) fn inference(stage: &'static str, e: impl std::fmt::Display) -> Self {
        PoseError::Inference { stage, message: e.to_string() }
    }
}
