//! `mocapd train --compare RUN…`: the validation curves of finished or running runs side by
//! side (ViMo's training ablations): a table of final val loss, best and final val MPJPE and
//! the first validated step at or under an MPJPE threshold, and a PNG of both curves.
use std::path::{Path, PathBuf};

use opencv::core::{Mat, Scalar, Vector};
use serde::Serialize;

use super::report::{plot_lines, read_log, write_png, LogRecord, Series};
use super::trainer::TrainError;

/// One run's validation summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub name: String,
    pub dir: PathBuf,
    /// Last logged step and its training time (s).
    pub steps: usize,
    pub train_s: f64,
    pub final_val_loss: Option<f32>,
    pub final_mpjpe_mm: Option<f32>,
    pub best_mpjpe_mm: Option<f32>,
    pub best_step: Option<usize>,
    /// First validated step with MPJPE ≤ the threshold (None: never reached).
    pub steps_to_threshold: Option<usize>,
    /// Validation points: (step, val loss, MPJPE mm).
    #[serde(skip)]
    pub curve: Vec<(usize, f32, f32)>,
}

/// Checks the MPJPE threshold's range (`--mpjpe-mm`): finite and positive. [`summarise`] calls it.
pub fn check_threshold(threshold_mm: f32) -> Result<(), TrainError> {
    if threshold_mm.is_finite() && threshold_mm > 0.0 {
        return Ok(());
    }
    Err(TrainError::Compare(format!("--mpjpe-mm must be a finite MPJPE in mm > 0, got {threshold_mm}")))
}

/// Reads `dir/log.jsonl` and summarises its validation lines (steps to `threshold_mm`, checked
/// by [`check_threshold`]).
pub fn summarise(dir: &Path, threshold_mm: f32) -> Result<RunSummary, TrainError> {
    check_threshold(threshold_mm)?;
    let log = dir.join("log.jsonl");
    if !log.is_file() {
        return Err(TrainError::Compare(format!(
            "{}: no log.jsonl here; is this a run folder (out_dir of a training config)?",
            dir.display()
        )));
    }
    let records = read_log(&log, usize::MAX);
    let curve: Vec<(usize, f32, f32)> = records
        .iter()
        .filter_map(|r: &LogRecord| Some((r.step, r.val_loss?, r.val_mpjpe_mm?)))
        .filter(|c| c.1.is_finite() && c.2.is_finite())
        .collect();
    let best = curve.iter().min_by(|a, b| a.2.total_cmp(&b.2));
    let last = records.last();
    Ok(RunSummary {
        name: dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| dir.display().to_string()),
        dir: dir.into(),
        steps: last.map_or(0, |r| r.step),
        train_s: last.map_or(0.0, |r| r.time),
        final_val_loss: curve.last().map(|c| c.1),
        final_mpjpe_mm: curve.last().map(|c| c.2),
        best_mpjpe_mm: best.map(|c| c.2),
        best_step: best.map(|c| c.0),
        steps_to_threshold: curve.iter().find(|c| c.2 <= threshold_mm).map(|c| c.0),
        curve,
    })
}

/// Markdown table of the summaries.
pub fn table(runs: &[RunSummary], threshold_mm: f32) -> String {
    let f = |v: Option<f32>, p: usize| v.map_or("–".to_string(), |v| format!("{v:.p$}"));
    let mut s = format!(
        "| run | steps | train time | final val loss | final val MPJPE (mm) | best val MPJPE (mm) @ step | steps to ≤ {threshold_mm:.0} mm |\n|---|---|---|---|---|---|---|\n"
    );
    for r in runs {
        s.push_str(&format!(
            "| {} | {} | {:.1} min | {} | {} | {} @ {} | {} |\n",
            r.name,
            r.steps,
            r.train_s / 60.0,
            f(r.final_val_loss, 4),
            f(r.final_mpjpe_mm, 1),
            f(r.best_mpjpe_mm, 1),
            r.best_step.map_or("–".into(), |s| s.to_string()),
            r.steps_to_threshold.map_or("not reached".into(), |s| s.to_string()),
        ));
    }
    s
}

const COLORS: [(f64, f64, f64); 8] = [
    (0.0, 0.0, 0.0),
    (200.0, 80.0, 0.0),
    (0.0, 0.0, 220.0),
    (0.0, 150.0, 0.0),
    (200.0, 0.0, 200.0),
    (0.0, 140.0, 255.0),
    (120.0, 120.0, 0.0),
    (90.0, 90.0, 90.0),
];

/// Val MPJPE and val loss against step, one curve per run, side by side in one PNG.
pub fn plot(path: &Path, runs: &[RunSummary]) -> Result<(), TrainError> {
    let series = |pick: fn(&(usize, f32, f32)) -> f32| -> Vec<Series> {
        runs.iter()
            .enumerate()
            .map(|(i, r)| {
                let (b, g, rd) = COLORS[i % COLORS.len()];
                Series {
                    name: r.name.clone(),
                    color: Scalar::new(b, g, rd, 0.0),
                    points: r.curve.iter().map(|c| (c.0, pick(c))).collect(),
                    bold: i == 0,
                }
            })
            .collect()
    };
    let left = plot_lines("val MPJPE (mm), DDIM samples", &series(|c| c.2), false)?;
    let right = plot_lines("val loss (unweighted, one t per clip)", &series(|c| c.1), false)?;
    let mut both = Mat::default();
    let parts: Vector<Mat> = Vector::from_iter([left, right]);
    opencv::core::hconcat(&parts, &mut both).map_err(|e| TrainError::Plot(e.to_string()))?;
    write_png(path, &both)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::report::append_log;

    #[test]
    fn summary_finds_best_and_threshold_step_and_plots() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("min_snr");
        std::fs::create_dir(&run).unwrap();
        let log = run.join("log.jsonl");
        for (step, val) in [(100, None), (200, Some((2.0, 230.0))), (300, None), (400, Some((1.5, 190.0))), (600, Some((1.4, 195.0)))] {
            let r = LogRecord {
                step,
                time: step as f64 * 0.5,
                val_loss: val.map(|v| v.0),
                val_mpjpe_mm: val.map(|v| v.1),
                ..Default::default()
            };
            append_log(&log, &r).unwrap();
        }
        let s = summarise(&run, 200.0).unwrap();
        assert_eq!((s.name.as_str(), s.steps, s.curve.len()), ("min_snr", 600, 3));
        assert_eq!((s.best_mpjpe_mm, s.best_step, s.steps_to_threshold), (Some(190.0), Some(400), Some(400)));
        assert_eq!((s.final_val_loss, s.final_mpjpe_mm), (Some(1.4), Some(195.0)));
        assert_eq!(summarise(&run, 100.0).unwrap().steps_to_threshold, None);
        let t = table(std::slice::from_ref(&s), 200.0);
        assert!(t.contains("| min_snr | 600 | 5.0 min | 1.4000 | 195.0 | 190.0 @ 400 | 400 |"), "{t}");
        let png = dir.path().join("cmp.png");
        plot(&png, &[s]).unwrap();
        let img = opencv::imgcodecs::imread(png.to_str().unwrap(), opencv::imgcodecs::IMREAD_COLOR).unwrap();
        assert_eq!((opencv::core::MatTraitConst::cols(&img), opencv::core::MatTraitConst::rows(&img)), (1800, 560));
        let err = summarise(dir.path(), 200.0).unwrap_err().to_string();
        assert!(err.contains("no log.jsonl"), "{err}");
    }
}
