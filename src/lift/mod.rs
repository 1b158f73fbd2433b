//! Offline lifting of 2D keypoint files to SMPL-24 motion with the diffusion denoiser, the
//! `mocapd.motion/1` file format, and evaluation metrics (seed
//! `/work/shared/seeds/000_2089a3e28466b77a.txt` §3.3, §3.5 (iii)).
pub mod bvh_out;
pub mod decode;
pub mod eval;
pub mod format;
pub mod input;
pub mod lift;
pub mod metrics;

pub use eval::{eval, EvalError, EvalOptions, EvalReport};
pub use format::{read_motion, write_motion, MotionFileError, MotionFrame, MotionHeader, MotionWriter};
pub use lift::{lift, FrameNoise, LiftError, LiftOptions, LiftReport, Lifter};
pub use metrics::Metrics;

#[cfg(test)]
pub(crate) mod tests;
