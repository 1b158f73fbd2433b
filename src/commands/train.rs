//! `mocapd train`: trains the denoiser from a `config/train.toml`-style file and prints the report;
//! `mocapd train --compare RUN…` compares runs' validation curves.

use super::Error;
use crate::train::{compare as cmp, train, TrainConfig};
use std::path::{Path, PathBuf};

/// Loads `config`, trains (continuing the run in its output folder when `resume`), prints the report.
pub fn run(config: &Path, resume: bool) -> Result<(), Error> {
    let cfg = TrainConfig::load(config)?;
    let report = train(&cfg, resume)?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| Error::Usage(format!("cannot encode the report: {e}")))?;
    println!("{text}");
    Ok(())
}

/// `--compare`: summarises the run folders, prints the Markdown table, draws `plot` when given.
pub fn compare(runs: &[PathBuf], threshold_mm: f32, plot: Option<&Path>) -> Result<(), Error> {
    let sums = runs.iter().map(|r| cmp::summarise(r, threshold_mm)).collect::<Result<Vec<_>, _>>()?;
    print!("{}", cmp::table(&sums, threshold_mm));
    if let Some(plot) = plot {
        cmp::plot(plot, &sums)?;
        eprintln!("wrote {}", plot.display());
    }
    Ok(())
}
