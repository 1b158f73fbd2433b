//! `mocapd eval`: metrics of a checkpoint on a held-out split (test by default; per category,
//! next to the mean-pose and nearest-training-pose baselines) or a ground-truth motion file.

use crate::lift::stream_eval::eval_streaming;
use crate::lift::{eval, EvalError, EvalOptions};
use crate::pipeline::PipelineSettings;

/// Runs the evaluation and prints its tables, or JSON with `json`. `streaming`: also lift
/// through the daemon's streaming path with these settings and hop.
pub fn run(opts: &EvalOptions, json: bool, streaming: Option<(&PipelineSettings, usize)>) -> Result<(), EvalError> {
    crate::model::tune_allocator();
    let report = match streaming {
        Some((settings, hop)) => eval_streaming(opts, settings, hop)?,
        None => eval(opts)?,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        // The text report ends with them; with JSON on stdout, say them on stderr too.
        for w in &report.warnings {
            tracing::warn!("{w}");
        }
    } else {
        println!("{report}");
    }
    Ok(())
}
