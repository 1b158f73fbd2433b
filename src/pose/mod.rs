//! 2D pose estimation: MoveNet through ONNX Runtime, cropping, multi-person tracking, keypoint files.

mod types;

pub mod crop;
pub mod error;
pub mod estimator;
pub mod movenet;
pub mod multipose;
pub mod performer;
pub mod runtime;
pub mod settings;
pub mod tensor;
pub mod track;

pub use error::PoseError;
pub use estimator::PoseEstimator;
pub use settings::{ModelKind, PoseSettings};
pub use tensor::StageTimes;
pub use track::{PerformerPolicy, Tracker};
pub use types::*;
pub mod draw;
pub mod record;
