//! Pictures of pose results: skeletons drawn on frames, and a contact sheet of several frames.

use super::types::{Person, PoseFrame};
use crate::skeleton::coco::COCO_EDGES;
use opencv::core::{self, Mat, Point, Rect, Scalar, Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};
use std::path::Path;

/// BGR colours: the performer in orange, others in cyan, doubtful joints grey.
const PERFORMER: (f64, f64, f64) = (0.0, 140.0, 255.0);
const OTHER: (f64, f64, f64) = (255.0, 200.0, 0.0);
const DOUBTFUL: (f64, f64, f64) = (150.0, 150.0, 150.0);

fn bgr(c: (f64, f64, f64)) -> Scalar {
    Scalar::new(c.0, c.1, c.2, 0.0)
}

fn pt(x: f32, y: f32) -> Point {
    Point::new(x.round() as i32, y.round() as i32)
}

/// Draws every person of `pose` on `image`: bones, joints, box and track id. Joints under
/// `min_confidence` are drawn grey and hollow: kept, but marked as doubtful.
pub fn draw_pose(image: &mut Mat, pose: &PoseFrame, min_confidence: f32) -> opencv::Result<()> {
    let scale = (image.cols().max(image.rows()) as f32 / 640.0).max(1.0);
    let thick = (2.0 * scale).round() as i32;
    for person in &pose.people {
        let colour = if Some(person.id) == pose.performer { PERFORMER } else { OTHER };
        draw_person(image, person, min_confidence, bgr(colour), thick)?;
    }
    Ok(())
}

fn draw_person(image: &mut Mat, p: &Person, min_c: f32, colour: Scalar, thick: i32) -> opencv::Result<()> {
    let k = &p.keypoints;
    for &(a, b) in &COCO_EDGES {
        let sure = k[a].is_confident(min_c) && k[b].is_confident(min_c);
        let c = if sure { colour } else { bgr(DOUBTFUL) };
        imgproc::line(image, pt(k[a].x, k[a].y), pt(k[b].x, k[b].y), c, if sure { thick } else { 1 }, imgproc::LINE_AA, 0)?;
    }
    for kp in k {
        let (c, fill) = if kp.is_confident(min_c) { (colour, -1) } else { (bgr(DOUBTFUL), 1) };
        imgproc::circle(image, pt(kp.x, kp.y), thick + 2, c, fill, imgproc::LINE_AA, 0)?;
    }
    let [x0, y0, x1, y1] = p.bbox;
    let rect = Rect::new(x0 as i32, y0 as i32, (x1 - x0).max(1.0) as i32, (y1 - y0).max(1.0) as i32);
    imgproc::rectangle(image, rect, colour, 1, imgproc::LINE_8, 0)?;
    let label = format!("id {}  {:.2}", p.id, p.score);
    let origin = Point::new(rect.x, (rect.y - 6).max(12 * thick));
    imgproc::put_text(image, &label, origin, imgproc::FONT_HERSHEY_SIMPLEX, 0.5 * thick as f64, colour, thick, imgproc::LINE_AA, false)?;
    Ok(())
}

/// Collects evenly spread thumbnails of annotated frames and writes them as one PNG grid.
pub struct ContactSheet {
    thumb_width: i32,
    every: u64,
    thumbs: Vec<(u64, Mat)>,
}

impl ContactSheet {
    /// Keeps one thumbnail every `every` frames, `thumb_width` pixels wide.
    pub fn new(every: u64, thumb_width: i32) -> Self {
        Self { thumb_width, every: every.max(1), thumbs: Vec::new() }
    }

    /// True when frame `seq` should be offered through [`ContactSheet::add`].
    pub fn wants(&self, seq: u64) -> bool {
        seq.is_multiple_of(self.every)
    }

    /// Adds an (already annotated) frame, labelled with its number and time.
    pub fn add(&mut self, seq: u64, t: f64, image: &Mat) -> opencv::Result<()> {
        let h = (image.rows() as f64 * self.thumb_width as f64 / image.cols().max(1) as f64).round() as i32;
        let mut thumb = Mat::default();
        imgproc::resize(image, &mut thumb, Size::new(self.thumb_width, h.max(1)), 0.0, 0.0, imgproc::INTER_AREA)?;
        let label = format!("frame {seq}  t={t:.2}s");
        imgproc::rectangle(&mut thumb, Rect::new(0, 0, 200, 32), Scalar::all(0.0), -1, imgproc::LINE_8, 0)?;
        imgproc::put_text(
            &mut thumb,
            &label,
            Point::new(8, 22),
            imgproc::FONT_HERSHEY_SIMPLEX,
            0.6,
            Scalar::all(255.0),
            2,
            imgproc::LINE_AA,
            false,
        )?;
        self.thumbs.push((seq, thumb));
        Ok(())
    }

    /// Writes up to `max` thumbnails (PNG, or JPEG for a `.jpg` path), evenly spread over what was collected, in a grid `cols` wide.
    pub fn write(&self, path: &Path, max: usize, cols: usize) -> opencv::Result<()> {
        let n = self.thumbs.len().min(max.max(1));
        if n == 0 {
            return Err(opencv::Error::new(core::StsError, "no frames were collected for the preview"));
        }
        let picks: Vec<&Mat> = (0..n).map(|i| &self.thumbs[i * self.thumbs.len() / n].1).collect();
        let cols = cols.clamp(1, n);
        let mut rows = Vector::<Mat>::new();
        for chunk in picks.chunks(cols) {
            let mut row = Vector::<Mat>::new();
            for m in chunk {
                row.push((*m).clone());
            }
            while row.len() < cols {
                row.push(Mat::zeros_size(picks[0].size()?, picks[0].typ())?.to_mat()?);
            }
            let mut joined = Mat::default();
            core::hconcat(&row, &mut joined)?;
            rows.push(joined);
        }
        let mut sheet = Mat::default();
        core::vconcat(&rows, &mut sheet)?;
        imgcodecs::imwrite_def(path, &sheet).and_then(|ok| {
            if ok {
                Ok(())
            } else {
                Err(opencv::Error::new(core::StsError, format!("could not write {}", path.display())))
            }
        })
    }
}
