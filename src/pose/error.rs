//! `PoseError`: every way pose estimation can fail, with messages that name the file and the fix.

use std::path::PathBuf;

use crate::onnxrt::OrtError;

/// Errors from loading ONNX Runtime and the MoveNet models, and from running them.
#[derive(Debug, thiserror::Error)]
pub enum PoseError {
    /// The ONNX Runtime library is missing or does not load (the message says where it looked).
    #[error(transparent)]
    Runtime(#[from] OrtError),

    /// The MoveNet model file is missing: `looked` lists where the default was searched
    /// (`None`: a configured `pose.model_path`, taken as given).
    #[error(
        "MoveNet model file '{}' not found{}: run tools/setup.sh, or set pose.model_path in the config to an existing .onnx file",
        path.display(),
        looked.as_ref().map(|l| format!(" (looked in: {l})")).unwrap_or_default()
    )]
    ModelNotFound { path: PathBuf, looked: Option<crate::assets::Looked> },

    #[error("failed to load model '{path}': {message}")]
    ModelLoad { path: PathBuf, message: String },

    /// The model file loads but its inputs/outputs are not what the model kind needs.
    #[error("model '{file}' has {found} but {kind} expects {expected}: set pose.model = \"{suggest}\" (`keypoints`: --model {suggest}) or point pose.model_path at the right file")]
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
