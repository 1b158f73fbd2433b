//! `mocapd eval`: metrics of a checkpoint on held-out takes or a ground-truth motion file.

use crate::lift::{eval, EvalError, EvalOptions};

/// Runs the evaluation and prints a table, or JSON with `json`.
pub fn run(opts: &EvalOptions, json: bool) -> Result<(), EvalError> {
    crate::model::tune_allocator();
    let report = eval(opts)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        println!("{report}");
    }
    Ok(())
}
