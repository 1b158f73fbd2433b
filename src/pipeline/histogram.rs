//! Histogram images (OpenCV imgproc drawing): bars of fixed-width bins, p50/p95 marker lines,
//! an axis label and a caption. `mocapd bench` draws its latency (5 ms bins, from the run's
//! bounded [`Histogram`]) with [`write()`];
//! `mocapd data stats --histogram` its coverage distances with [`write_values`].
use std::path::Path;

use opencv::core::{Mat, Point, Scalar, Vector, CV_8UC3};
use opencv::imgproc::{self, FONT_HERSHEY_SIMPLEX, LINE_AA};

use super::stats::Histogram;

/// Draws the latency histogram `latency` (5 ms bars, p50/p95 from its quantiles) to `path`
/// (png/jpg).
pub fn write(path: &Path, latency: &Histogram, caption: &str) -> opencv::Result<()> {
    let bin = 5.0;
    let max = if latency.is_empty() { 0.0 } else { latency.max() };
    let counts = latency.coarse(bin, bins_for(max, bin));
    let marks = [0.5, 0.95].map(|q| (q, latency.quantile(q)));
    draw(path, &counts, bin, max, &marks, caption, "latency, ms (capture -> datagram sent)")
}

/// Draws the histogram of `values` (non-negative) to `path` (png/jpg): bins of `bin` units
/// (at most 200 bins; larger values fall in the last), `axis` under the x axis.
pub fn write_values(path: &Path, values: &[f64], caption: &str, axis: &str, bin: f64) -> opencv::Result<()> {
    let bin = if bin.is_finite() && bin > 0.0 { bin } else { 5.0 };
    let max = values.iter().copied().fold(0.0f64, f64::max);
    let bins = bins_for(max, bin);
    let mut counts = vec![0u64; bins];
    for &v in values {
        counts[((v / bin) as usize).min(bins - 1)] += 1;
    }
    let marks = [0.5, 0.95].map(|q| (q, super::stats::quantile(values, q)));
    draw(path, &counts, bin, max, &marks, caption, axis)
}

/// Bins of `bin` units that cover values up to `max` (at least two bins' worth, at most 200).
fn bins_for(max: f64, bin: f64) -> usize {
    ((max.max(2.0 * bin) / bin).ceil() as usize + 1).min(200)
}

/// Draws `counts` (bars of `bin` units from 0, values up to `max`) with a marker line per
/// `(quantile, value)`.
fn draw(path: &Path, counts: &[u64], bin: f64, max: f64, marks: &[(f64, f64)], caption: &str, axis: &str) -> opencv::Result<()> {
    let (w, h, left, bottom, top) = (900, 500, 60, 60, 50);
    let mut img = Mat::new_rows_cols_with_default(h, w, CV_8UC3, Scalar::all(255.0))?;
    let max = max.max(2.0 * bin);
    let bins = counts.len().max(1);
    let peak = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (pw, ph) = ((w - left - 20) as f64, (h - bottom - top) as f64);
    let bw = pw / bins as f64;
    let x_of = |ms: f64| left + (ms / bin * bw) as i32;
    for (i, &c) in counts.iter().enumerate() {
        let x0 = left + (i as f64 * bw) as i32;
        let y0 = h - bottom - (c as f64 / peak * ph) as i32;
        let rect = opencv::core::Rect::new(x0, y0, (bw as i32 - 1).max(1), h - bottom - y0);
        imgproc::rectangle(&mut img, rect, Scalar::new(180.0, 110.0, 40.0, 0.0), -1, imgproc::LINE_8, 0)?;
    }
    let black = Scalar::all(0.0);
    imgproc::line(&mut img, Point::new(left, h - bottom), Point::new(w - 20, h - bottom), black, 1, LINE_AA, 0)?;
    let ticks = ((max / 10.0).ceil() as usize).max(1);
    let step = (ticks / 10).max(1) * 10;
    let mut ms = 0;
    while (ms as f64) <= max + bin {
        let x = x_of(ms as f64);
        imgproc::line(&mut img, Point::new(x, h - bottom), Point::new(x, h - bottom + 5), black, 1, LINE_AA, 0)?;
        imgproc::put_text(
            &mut img,
            &format!("{ms}"),
            Point::new(x - 8, h - bottom + 22),
            FONT_HERSHEY_SIMPLEX,
            0.45,
            black,
            1,
            LINE_AA,
            false,
        )?;
        ms += step;
    }
    imgproc::put_text(&mut img, axis, Point::new(left, h - 12), FONT_HERSHEY_SIMPLEX, 0.5, black, 1, LINE_AA, false)?;
    for &(q, v) in marks {
        let colour = if q < 0.9 { Scalar::new(0.0, 160.0, 0.0, 0.0) } else { Scalar::new(0.0, 0.0, 220.0, 0.0) };
        if v.is_finite() {
            let x = x_of(v);
            imgproc::line(&mut img, Point::new(x, top), Point::new(x, h - bottom), colour, 2, LINE_AA, 0)?;
            imgproc::put_text(
                &mut img,
                &format!("p{} {v:.0}", (q * 100.0) as u32),
                Point::new(x + 4, top + if q < 0.9 { 14 } else { 32 }),
                FONT_HERSHEY_SIMPLEX,
                0.5,
                colour,
                1,
                LINE_AA,
                false,
            )?;
        }
    }
    imgproc::put_text(&mut img, caption, Point::new(left, 28), FONT_HERSHEY_SIMPLEX, 0.55, black, 1, LINE_AA, false)?;
    opencv::imgcodecs::imwrite(path, &img, &Vector::new())?;
    Ok(())
}
