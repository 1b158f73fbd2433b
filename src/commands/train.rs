//! `mocapd train`: trains the denoiser from a `config/train.toml`-style file and prints the report.

use super::Error;
use crate::train::{train, TrainConfig};
use std::path::Path;

/// Loads `config`, trains (continuing the run in its output folder when `resume`), prints the report.
pub fn run(config: &Path, resume: bool) -> Result<(), Error> {
    let cfg = TrainConfig::load(config)?;
    let report = train(&cfg, resume)?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| Error::Usage(format!("cannot encode the report: {e}")))?;
    println!("{text}");
    Ok(())
}
