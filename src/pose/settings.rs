//! `PoseSettings` and `ModelKind`: which MoveNet model to run, where its files are, how to pick the performer.

use std::{fmt, path::PathBuf, str::FromStr};

use super::error::PoseError;
use super::track::PerformerPolicy;
use super::types::DEFAULT_MIN_CONFIDENCE;

/// The three MoveNet variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// Single person, 192x192 input, fastest.
    Lightning,
    /// Single person, 256x256 input, more accurate.
    Thunder,
    /// Up to 6 people, any input size that is a multiple of 32.
    Multipose,
}

impl ModelKind {
    pub const ALL: [ModelKind; 3] = [ModelKind::Lightning, ModelKind::Thunder, ModelKind::Multipose];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Lightning => "lightning",
            ModelKind::Thunder => "thunder",
            ModelKind::Multipose => "multipose",
        }
    }

    /// Square input side of the single-person models; `None` for multipose (dynamic).
    pub fn input_size(self) -> Option<u32> {
        match self {
            ModelKind::Lightning => Some(192),
            ModelKind::Thunder => Some(256),
            ModelKind::Multipose => None,
        }
    }

    /// `models/movenet-<kind>.onnx`, relative to the repository root (found by
    /// [`PoseSettings::model_file`]).
    pub fn default_model_path(self) -> PathBuf {
        PathBuf::from(format!("models/movenet-{}.onnx", self.name()))
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "lightning" => Ok(ModelKind::Lightning),
            "thunder" => Ok(ModelKind::Thunder),
            "multipose" => Ok(ModelKind::Multipose),
            other => Err(format!("unknown pose model '{other}': expected lightning, thunder or multipose")),
        }
    }
}

/// Everything the pose stage needs, resolved from config and command line. `Default` holds the
/// built-in defaults of the `[pose]` config keys (`config::RawConfig::defaults` takes them from here).
#[derive(Debug, Clone, PartialEq)]
pub struct PoseSettings {
    pub model_kind: ModelKind,
    /// Model file; `None` means `models/movenet-<kind>.onnx` (see [`PoseSettings::model_file`]).
    pub model_path: Option<PathBuf>,
    /// ONNX Runtime library; `None` means `ORT_DYLIB_PATH`, then `.local/onnxruntime/libonnxruntime.so`.
    pub onnxruntime: Option<PathBuf>,
    /// ONNX Runtime intra-op threads (inter-op is always 1). 1 leaves the other core to the rest.
    pub threads: usize,
    /// Keypoints below this are kept but "marked"; also the multipose detection threshold floor.
    pub min_confidence: f32,
    /// Which tracked person is the performer.
    pub policy: PerformerPolicy,
    /// Multipose input long side in pixels (multiple of 32).
    pub multipose_size: u32,
    /// Multipose detections below this score are dropped.
    pub detection_threshold: f32,
    /// How long a track that is not seen stays alive, in seconds.
    pub track_timeout_s: f64,
}

impl Default for PoseSettings {
    fn default() -> Self {
        PoseSettings {
            model_kind: ModelKind::Lightning,
            model_path: None,
            onnxruntime: None,
            threads: 1,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            policy: PerformerPolicy::Largest,
            multipose_size: 256,
            detection_threshold: 0.2,
            track_timeout_s: 1.0,
        }
    }
}

impl PoseSettings {
    pub fn new(model_kind: ModelKind) -> Self {
        PoseSettings { model_kind, ..Default::default() }
    }

    /// The model file to load: `pose.model_path` as given, else `models/movenet-<kind>.onnx`
    /// found by [`crate::assets::locate`] (working directory, beside the executable, install
    /// prefix). A missing file is [`PoseError::ModelNotFound`], saying where it looked.
    pub fn model_file(&self) -> Result<PathBuf, PoseError> {
        match &self.model_path {
            Some(p) if p.is_file() => Ok(p.clone()),
            Some(p) => Err(PoseError::ModelNotFound { path: p.clone(), looked: None }),
            None => {
                let default = self.model_kind.default_model_path();
                crate::assets::locate(&default).map_err(|looked| PoseError::ModelNotFound { path: default, looked: Some(looked) })
            }
        }
    }
}
