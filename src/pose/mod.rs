//! 2D pose estimation: MoveNet through ONNX Runtime, cropping, multi-person tracking, keypoint files.

mod types;

pub use types::*;
pub mod draw;
pub mod record;
