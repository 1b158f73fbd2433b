//! The offline side of lifting: `mocapd lift` (keypoint file → `mocapd.motion/1` or BVH, through
//! the shared [`crate::infer::Lifter`]), and `mocapd eval` (offline and through the daemon's own
//! streaming loop) with its metrics.
pub mod eval;
pub mod metrics;
pub mod offline;
pub mod stream_eval;

pub use eval::{eval, EvalError, EvalOptions, EvalReport};
pub use metrics::Metrics;
pub use offline::{lift_file, lift_track, LiftError, LiftOptions, LiftReport, Lifted};

#[cfg(test)]
pub(crate) mod tests;
