//! The offline side of lifting: `mocapd lift` (keypoint file → `mocapd.motion/1` or BVH, through
//! the shared [`crate::infer::Lifter`]), and `mocapd eval` (offline and through the daemon's own
//! streaming loop, next to the mean-pose and nearest-training-pose baselines) with its metrics.
pub mod baselines;
pub mod eval;
pub mod eval_file;
pub mod eval_report;
pub mod metrics;
pub mod offline;
pub mod preview;
pub mod reproject;
pub mod stream_eval;

pub use eval::{eval, EvalError, EvalOptions, Views};
pub use eval_report::EvalReport;
pub use metrics::Metrics;
pub use offline::{lift_file, lift_track, LiftError, LiftOptions, LiftReport, Lifted};

#[cfg(test)]
mod eval_tests;
#[cfg(test)]
pub(crate) mod tests;
