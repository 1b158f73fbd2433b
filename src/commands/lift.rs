//! `mocapd lift`: keypoint file → SMPL-24 motion (`.jsonl` mocapd.motion/1 or `.bvh`).

use std::path::Path;

use crate::lift::{lift_file, LiftError, LiftOptions, LiftReport};

/// Lifts `input` to `out` and returns the report (the binary prints it).
pub fn run(input: &Path, out: &Path, opts: &LiftOptions) -> Result<LiftReport, LiftError> {
    crate::model::tune_allocator();
    lift_file(input, out, opts)
}
