//! `mocapd eval`: metrics of a checkpoint on held-out takes or a ground-truth motion file.

use crate::lift::stream_eval::eval_streaming;
use crate::lift::{eval, EvalError, EvalOptions};
use crate::pipeline::PipelineSettings;

/// Runs the evaluation and prints a table, or JSON with `json`. `streaming`: lift through the
/// daemon's streaming path with these settings and hop instead of offline windows.
pub fn run(opts: &EvalOptions, json: bool, streaming: Option<(&PipelineSettings, usize)>) -> Result<(), EvalError> {
    crate::model::tune_allocator();
    let report = match streaming {
        Some((settings, hop)) => eval_streaming(opts, settings, hop)?,
        None => eval(opts)?,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        println!("{report}");
    }
    Ok(())
}
