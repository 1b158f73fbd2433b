//! `mocapd data …`: fetch registry motion data, build the training set, preview a clip, print stats.

use super::Error;
use crate::data::coverage::{Coverage, CoverageOptions};
use crate::data::{build, fetch, preview, stats};
use crate::pipeline::histogram;
use std::path::{Path, PathBuf};

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

/// Prints the built set's statistics as a table or JSON (the coverage of the held-out splits
/// included, with a progress bar on stderr); `histogram`: a PNG of the validation split's
/// per-frame coverage distances (another held-out split's goes beside it, `NAME-<split>.png`).
pub fn stats(dir: &Path, json: bool, histogram: Option<&Path>) -> Result<(), Error> {
    let o = stats::StatsOptions { coverage: Some(CoverageOptions { progress: true, ..Default::default() }) };
    let s = stats::stats_with(dir, &o)?;
    if let Some(path) = histogram {
        if s.coverage.is_empty() {
            return Err(Error::Usage(format!("{}: no held-out split, no coverage histogram", dir.display())));
        }
        for (i, c) in s.coverage.iter().enumerate() {
            let p = if i == 0 { path.to_path_buf() } else { beside(path, &c.split) };
            write_histogram(&p, c)?;
            eprintln!("wrote {}", p.display());
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&s).map_err(|e| Error::Usage(format!("cannot encode stats: {e}")))?;
        println!("{text}");
    } else {
        println!("{s}");
    }
    Ok(())
}

/// `dir/stem-split.ext` for `dir/stem.ext`.
fn beside(path: &Path, split: &str) -> PathBuf {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("coverage");
    let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("png");
    path.with_file_name(format!("{stem}-{split}.{ext}"))
}

/// The coverage distances of one split drawn with the bench's histogram code.
fn write_histogram(path: &Path, c: &Coverage) -> Result<(), Error> {
    let values: Vec<f64> = c.distances_mm.iter().map(|&d| f64::from(d)).collect();
    let bin = (f64::from(c.max_mm) / 150.0).ceil().max(5.0);
    let caption =
        format!("coverage {}: {} frames vs {} training, mean {:.1} mm, p90 {:.1}", c.split, c.frames, c.train_frames, c.mean_mm, c.p90_mm);
    histogram::write_values(path, &values, &caption, "distance to the nearest training pose after Procrustes, mm", bin)?;
    Ok(())
}
