//! `mocapd data …`: fetch registry motion data, build the training set, preview a clip, print stats.

use super::Error;
use crate::data::{build, fetch, preview, stats};
use std::path::Path;

/// Downloads (or reuses) the pinned motion packages into `dir` and lists what was extracted.
pub fn fetch(dir: &Path, include_lafan1: bool) -> Result<(), Error> {
    let files = fetch::fetch(dir, fetch::FetchOptions { lafan1: include_lafan1 })?;
    for f in &files {
        println!("{:<24} {:<28} {}", f.package, f.licence, f.path.display());
    }
    println!("{} motion files in {}", files.len(), dir.display());
    Ok(())
}

/// Builds the training set and prints its report.
pub fn build(options: &build::BuildOptions) -> Result<(), Error> {
    let report = build::build(options)?;
    println!("{report}");
    Ok(())
}

/// Draws one clip from three views plus its noisy 2D projection.
pub fn preview(options: &preview::PreviewOptions) -> Result<(), Error> {
    let report = preview::preview(options)?;
    println!("wrote {} ({})", options.out.display(), serde_json::to_string(&report).unwrap_or_default());
    Ok(())
}

/// Prints the built set's statistics as a table or JSON.
pub fn stats(dir: &Path, json: bool) -> Result<(), Error> {
    let s = stats::stats(dir)?;
    if json {
        let text = serde_json::to_string_pretty(&s).map_err(|e| Error::Usage(format!("cannot encode stats: {e}")))?;
        println!("{text}");
    } else {
        println!("{s}");
    }
    Ok(())
}
