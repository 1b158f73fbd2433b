//! `mocapd lift`: keypoint file → SMPL-24 motion (`.jsonl` mocapd.motion/1 or `.bvh`), its
//! reprojection error, and on request a preview (`--preview`, `--video`).

use std::path::Path;

use crate::lift::offline::lift_file_run;
use crate::lift::preview::Preview;
use crate::lift::{LiftError, LiftOptions, LiftReport};

/// Lifts `input` to `out` and returns the report (the binary prints it). With `preview` (and
/// `video`), also draws the lift ([`Preview`]): the preview's path and video are checked before
/// anything is lifted.
pub fn run(input: &Path, out: &Path, opts: &LiftOptions, preview: Option<&Path>, video: Option<&Path>) -> Result<LiftReport, LiftError> {
    crate::model::tune_allocator();
    let preview = preview.map(|p| Preview::prepare(p, video, input)).transpose()?;
    let run = lift_file_run(input, out, opts)?;
    let mut report = run.report;
    if let Some(p) = preview {
        report.preview = Some(p.draw(&run.track, &run.lifted.frames, report.reprojection.as_ref())?);
    }
    Ok(report)
}
