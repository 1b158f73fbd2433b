//! `mocapd lift --preview`: pictures of a lift. Each frame is a row of three panels of one
//! height: the input frame (the video, or a blank canvas of the recorded size) with the
//! performer's COCO-17 keypoints (confidence < 0.3 faint) and, as rings, the lifted joints put
//! back through the fitted weak-perspective camera ([`super::reproject`]); the lifted SMPL-24
//! skeleton seen from the camera (orthographic, x right, y up); and seen from the side (−z
//! right: the camera is on the left, y up). Left limbs blue, right limbs red (the body's sides,
//! the colours of `mocapd data preview`), the floor as a grey line; the 3D views are centred on
//! the pelvis horizontally, with one scale and floor height for the whole clip, so jumps and
//! crouches show. A `.png`/`.jpg` is a contact sheet of [`SHEET_FRAMES`] evenly spaced frames
//! (rows); a `.mp4`/`.avi`/`.mkv` has every frame at the keypoints' rate.
use std::path::{Path, PathBuf};

use opencv::core::{self, Mat, Point, Rect, Scalar, Size, Vector, CV_8UC3};
use opencv::prelude::*;
use opencv::videoio::VideoWriter;
use opencv::{imgcodecs, imgproc};
use serde::Serialize;

use super::reproject::{lifted_coco, Reprojection, MIN_CONFIDENCE, REPROJECTION_JOINTS};
use crate::data::preview::{bgr, pt, side_colour, smpl_side};
use crate::motion::{Frame2d, MotionFrame};
use crate::pose::performer::Track2d;
use crate::pose::record::KeypointReader;
use crate::skeleton::coco::COCO_EDGES;
use crate::skeleton::rotation::Vec3;
use crate::skeleton::smpl::{parent, NUM_JOINTS};
use crate::source::{self, Frame, Pacing, SourceError, SourceHandle, SourceOptions, SourceSpec};

/// Frames (rows) of a contact sheet.
pub const SHEET_FRAMES: usize = 8;
/// Panel height of a contact sheet's rows and of a video's frames, pixels.
const SHEET_H: i32 = 270;
const VIDEO_H: i32 = 540;
/// Height of a contact sheet's heading, pixels.
pub const BANNER_H: i32 = 72;

/// A contact sheet (PNG/JPEG) or a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PreviewKind {
    Sheet,
    Video,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("--preview {}: use a .png or .jpg (a contact sheet of {SHEET_FRAMES} frames) or a .mp4, .avi or .mkv (every frame)", path.display())]
    Kind { path: PathBuf },
    #[error("--video: {0}")]
    Video(#[source] SourceError),
    #[error("cannot write preview '{}': {reason}", path.display())]
    Write { path: PathBuf, reason: String },
    #[error("preview: nothing to draw (no frames)")]
    Empty,
    #[error("preview: OpenCV: {0}")]
    OpenCv(#[from] opencv::Error),
}

/// What was drawn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewReport {
    pub out: PathBuf,
    pub kind: PreviewKind,
    /// Frames drawn (rows of a sheet, frames of a video).
    pub frames: usize,
    /// Picture (sheet) or frame (video) size.
    pub width: i32,
    pub height: i32,
    /// The video drawn under the keypoints (`None`: a blank canvas).
    pub video: Option<PathBuf>,
    /// The video's codec (FourCC).
    pub fourcc: Option<String>,
}

/// A preview checked before lifting: its kind, its folder made, its video found and opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub out: PathBuf,
    pub kind: PreviewKind,
    pub video: Option<PathBuf>,
}

fn open_video(path: &Path) -> Result<SourceHandle, SourceError> {
    source::open(&SourceSpec::File(path.into()), &SourceOptions { pacing: Pacing::Fast, ..SourceOptions::default() })
}

impl Preview {
    /// Checks `out`'s extension and makes its folder; the video is `video` (an error when it
    /// cannot be read), else the keypoint file's recorded `source` when that is a file (as
    /// given, or relative to the keypoint file's folder), else none (a blank canvas).
    pub fn prepare(out: &Path, video: Option<&Path>, keypoints: &Path) -> Result<Self, PreviewError> {
        let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let kind = match ext.as_str() {
            "png" | "jpg" | "jpeg" => PreviewKind::Sheet,
            "mp4" | "avi" | "mkv" => PreviewKind::Video,
            _ => return Err(PreviewError::Kind { path: out.into() }),
        };
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| PreviewError::Write { path: out.into(), reason: e.to_string() })?;
        }
        let video = match video {
            Some(v) => {
                open_video(v).map_err(PreviewError::Video)?;
                Some(v.to_path_buf())
            }
            None => recorded_video(keypoints),
        };
        Ok(Self { out: out.into(), kind, video })
    }

    /// Draws the lift of `track` (`frames`, one per track frame) with its reprojection.
    pub fn draw(
        &self,
        track: &Track2d,
        frames: &[MotionFrame],
        reprojection: Option<&Reprojection>,
    ) -> Result<PreviewReport, PreviewError> {
        let n = track.len().min(frames.len());
        if n == 0 {
            return Err(PreviewError::Empty);
        }
        let mut input = Input::open(self.video.as_deref());
        let scene = Scene::new(track, &frames[..n], reprojection);
        let wanted: Vec<usize> = match self.kind {
            PreviewKind::Video => (0..n).collect(),
            PreviewKind::Sheet => {
                let k = SHEET_FRAMES.min(n);
                let mut v: Vec<usize> = (0..k).map(|i| if k == 1 { 0 } else { i * (n - 1) / (k - 1) }).collect();
                v.dedup();
                v
            }
        };
        let write_err = |reason: String| PreviewError::Write { path: self.out.clone(), reason };
        let (size, fourcc) = match self.kind {
            PreviewKind::Video => {
                let (mut writer, fourcc) = open_writer(&self.out, track.fps(), scene.size(VIDEO_H))?;
                for &i in &wanted {
                    writer.write(&scene.row(i, input.image(track.frame[i]).as_ref(), VIDEO_H)?)?;
                }
                writer.release()?;
                (scene.size(VIDEO_H), Some(fourcc))
            }
            PreviewKind::Sheet => {
                let mut rows = Vector::<Mat>::new();
                rows.push(scene.banner(scene.size(SHEET_H).width)?);
                for &i in &wanted {
                    rows.push(scene.row(i, input.image(track.frame[i]).as_ref(), SHEET_H)?);
                }
                let mut sheet = Mat::default();
                core::vconcat(&rows, &mut sheet)?;
                if !imgcodecs::imwrite(&self.out, &sheet, &Vector::from_slice(&[imgcodecs::IMWRITE_PNG_COMPRESSION, 6]))? {
                    return Err(write_err("OpenCV could not encode the image".into()));
                }
                (sheet.size()?, None)
            }
        };
        if !std::fs::metadata(&self.out).is_ok_and(|m| m.len() > 0) {
            return Err(write_err("nothing was written".into()));
        }
        let video = input.path;
        Ok(PreviewReport {
            out: self.out.clone(),
            kind: self.kind,
            frames: wanted.len(),
            width: size.width,
            height: size.height,
            video,
            fourcc,
        })
    }
}

/// The keypoint file's recorded source, when it names a file (as given, or relative to the
/// keypoint file's folder); one that turns out unreadable is drawn as a blank canvas.
fn recorded_video(keypoints: &Path) -> Option<PathBuf> {
    let source = KeypointReader::open(keypoints).ok()?.header().source.clone();
    let beside = keypoints.parent().map(|d| d.join(&source));
    [Some(PathBuf::from(&source)), beside].into_iter().flatten().find(|p| p.is_file())
}

/// An H.264-or-MPEG-4 writer that the installed OpenCV opens: mp4v, then avc1.
fn open_writer(path: &Path, fps: f64, size: Size) -> Result<(VideoWriter, String), PreviewError> {
    for code in ["mp4v", "avc1"] {
        let c: Vec<char> = code.chars().collect();
        let w = VideoWriter::new_def(path, VideoWriter::fourcc(c[0], c[1], c[2], c[3])?, fps, size)?;
        if w.is_opened()? {
            return Ok((w, code.to_string()));
        }
    }
    Err(PreviewError::Write { path: path.into(), reason: "OpenCV opens no video writer for it (tried mp4v, avc1)".into() })
}

/// The input frames, read in order, matched to keypoint frames by number.
struct Input {
    path: Option<PathBuf>,
    src: Option<SourceHandle>,
    ahead: Option<Frame>,
}

impl Input {
    fn open(path: Option<&Path>) -> Self {
        let src = path.and_then(|p| open_video(p).map_err(|e| tracing::warn!("preview: {e}; drawing on a blank canvas")).ok());
        Self { path: src.as_ref().and(path.map(Path::to_path_buf)), src, ahead: None }
    }

    /// Frame `no` (frames are asked for in increasing order); `None` past the video's end.
    fn image(&mut self, no: u64) -> Option<Mat> {
        let src = self.src.as_ref()?;
        loop {
            let f = match self.ahead.take() {
                Some(f) => f,
                None => src.recv()?,
            };
            if f.seq >= no {
                let hit = (f.seq == no).then(|| f.image.clone());
                self.ahead = Some(f);
                return hit;
            }
        }
    }
}

/// On the video, the reprojected joints in yellow; the COCO edges of the input 2D faint.
const REPROJECTED: (f64, f64, f64) = (0.0, 230.0, 255.0);
const FAINT: (f64, f64, f64) = (160.0, 160.0, 160.0);

/// Side of COCO keypoint `k`: odd indices are left, even ones (but the nose) right.
fn coco_side(k: usize) -> i8 {
    match k {
        0 => 0,
        k if k % 2 == 1 => -1,
        _ => 1,
    }
}

fn text(img: &mut Mat, s: &str, at: Point, scale: f64, colour: Scalar) -> opencv::Result<()> {
    imgproc::put_text(img, s, at, imgproc::FONT_HERSHEY_SIMPLEX, scale, colour, 1, imgproc::LINE_AA, false)
}

/// White text outlined in black, readable on any frame without hiding it.
fn outlined(img: &mut Mat, s: &str, at: Point, scale: f64) -> opencv::Result<()> {
    imgproc::put_text(img, s, at, imgproc::FONT_HERSHEY_SIMPLEX, scale, Scalar::all(0.0), 3, imgproc::LINE_AA, false)?;
    text(img, s, at, scale, Scalar::all(255.0))
}

/// What every frame's drawing shares: the track, the lifted joints, the clip's 3D framing.
struct Scene<'a> {
    track: &'a Track2d,
    frames: &'a [MotionFrame],
    joints: Vec<[Vec3; NUM_JOINTS]>,
    /// Lifted COCO-17 joints and the fitted cameras, for the reprojected rings.
    coco: Vec<[Vec3; 17]>,
    reprojection: Option<&'a Reprojection>,
    /// The floor height (m), the most the body rises above it and sinks below it, and the
    /// largest horizontal reach from the pelvis (m), over the clip.
    floor: f32,
    above: f32,
    below: f32,
    reach: f32,
}

fn even(v: f32) -> i32 {
    ((v / 2.0).round() as i32).max(1) * 2
}

impl<'a> Scene<'a> {
    fn new(track: &'a Track2d, frames: &'a [MotionFrame], reprojection: Option<&'a Reprojection>) -> Self {
        let joints: Vec<[Vec3; NUM_JOINTS]> = frames.iter().map(MotionFrame::joints).collect();
        let lows: Vec<f32> = joints.iter().map(|j| j.iter().map(|p| p[1]).fold(f32::MAX, f32::min)).filter(|v| v.is_finite()).collect();
        let mut sorted = lows.clone();
        sorted.sort_by(f32::total_cmp);
        let floor = sorted.get(sorted.len() / 20).copied().unwrap_or(0.0);
        let (mut above, mut below, mut reach) = (1.0f32, 0.0f32, 0.3f32);
        for (j, f) in joints.iter().zip(frames) {
            for p in j.iter().filter(|p| p.iter().all(|v| v.is_finite())) {
                above = above.max(p[1] - floor);
                below = below.max(floor - p[1]);
                reach = reach.max((p[0] - f.root[0]).abs()).max((p[2] - f.root[2]).abs());
            }
        }
        let coco = if reprojection.is_some() { lifted_coco(frames) } else { vec![] };
        Self { track, frames, joints, coco, reprojection, floor, above: above.min(5.0), below: below.min(5.0), reach: reach.min(5.0) }
    }

    /// Panel widths at panel height `h`: the input's aspect, and 3:4 for the 3D views.
    fn widths(&self, h: i32) -> (i32, i32) {
        let (w, hh) = (self.track.header.width.max(1) as f32, self.track.header.height.max(1) as f32);
        (even(h as f32 * w / hh).min(4 * h), even(0.75 * h as f32))
    }

    fn size(&self, h: i32) -> Size {
        let (wv, w3) = self.widths(h);
        Size::new(wv + 2 * w3, h)
    }

    fn font(h: i32) -> f64 {
        (h as f64 / 600.0).max(0.38)
    }

    /// The sheet's heading: what the panels are and the reprojection error.
    fn banner(&self, width: i32) -> opencv::Result<Mat> {
        let mut img = Mat::new_rows_cols_with_default(BANNER_H, width, CV_8UC3, Scalar::all(255.0))?;
        let source = Path::new(&self.track.header.source).file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let err = match self.reprojection {
            Some(r) => format!(
                "reprojection {:.1} px = {:.1} % of the performer's {:.0} px height (rings; one camera per {} frames)",
                r.mean_px, r.percent_of_height, r.height_px, r.block_frames
            ),
            None => "reprojection: no confident keypoints".into(),
        };
        let lines = [
            format!("mocapd lift preview: {source}, {} frames at {:.1} fps; left = blue, right = red", self.track.len(), self.track.fps()),
            "panels: input with 2D keypoints (grey: c < 0.3) | 3D from the camera (x right, y up) |".into(),
            "3D from the side (-z right, y up: the camera is on the left); 3D views pelvis-centred".into(),
            err,
        ];
        for (k, l) in lines.iter().enumerate() {
            text(&mut img, l, Point::new(6, 16 + 16 * k as i32), 0.4, Scalar::all(30.0))?;
        }
        Ok(img)
    }

    /// Frame `i` as one row of three panels of height `h`.
    fn row(&self, i: usize, image: Option<&Mat>, h: i32) -> opencv::Result<Mat> {
        let mut panels = Vector::<Mat>::new();
        panels.push(self.input_panel(i, image, h)?);
        panels.push(self.view_panel(i, h, false)?);
        panels.push(self.view_panel(i, h, true)?);
        let mut row = Mat::default();
        core::hconcat(&panels, &mut row)?;
        Ok(row)
    }

    fn input_panel(&self, i: usize, image: Option<&Mat>, h: i32) -> opencv::Result<Mat> {
        let (w, _) = self.widths(h);
        let mut img = Mat::default();
        match image {
            Some(m) => imgproc::resize(m, &mut img, Size::new(w, h), 0.0, 0.0, imgproc::INTER_AREA)?,
            None => img = Mat::new_rows_cols_with_default(h, w, CV_8UC3, Scalar::all(45.0))?,
        }
        let sx = w as f32 / self.track.header.width.max(1) as f32;
        let sy = h as f32 / self.track.header.height.max(1) as f32;
        let kp: &Frame2d = &self.track.keypoints[i];
        let at = |k: usize| pt(kp[k][0] * sx, kp[k][1] * sy);
        let sure = |k: usize| kp[k][2] >= MIN_CONFIDENCE;
        let thick = (h / 270).max(1) + 1;
        for &(a, b) in &COCO_EDGES {
            if sure(a) && sure(b) {
                let side = if coco_side(a) == coco_side(b) { coco_side(a) } else { 0 };
                imgproc::line(&mut img, at(a), at(b), side_colour(side, true), thick, imgproc::LINE_AA, 0)?;
            } else if kp[a][2] > 0.0 && kp[b][2] > 0.0 {
                imgproc::line(&mut img, at(a), at(b), bgr(FAINT), 1, imgproc::LINE_AA, 0)?;
            }
        }
        for k in (0..kp.len()).filter(|&k| kp[k][2] > 0.0) {
            let (c, fill) = if sure(k) { (side_colour(coco_side(k), true), -1) } else { (bgr(FAINT), 1) };
            imgproc::circle(&mut img, at(k), thick + 1, c, fill, imgproc::LINE_AA, 0)?;
        }
        if let Some(cam) = self.reprojection.and_then(|r| r.camera_at(i)) {
            for &j in &REPROJECTION_JOINTS {
                let [u, v] = cam.project(self.coco[i][j]);
                imgproc::circle(&mut img, pt(u * sx, v * sy), thick + 4, bgr(REPROJECTED), 1, imgproc::LINE_AA, 0)?;
            }
        }
        let fs = Self::font(h);
        let mut label = format!("frame {}  t={:.2} s", self.track.frame[i], self.track.t[i]);
        if !self.track.seen[i] {
            label += "  (performer not seen)";
        }
        let line = (22.0 * fs / 0.45) as i32;
        outlined(&mut img, &label, Point::new(6, line), fs)?;
        let legend = if self.reprojection.is_some() { "2D keypoints, rings: 3D reprojected" } else { "2D keypoints" };
        outlined(&mut img, legend, Point::new(6, h - line / 3), fs)?;
        Ok(img)
    }

    /// The lifted skeleton from the camera (`side = false`: x right, y up) or from the side
    /// (`side = true`: −z right, y up), pelvis-centred, on the clip's floor and scale.
    fn view_panel(&self, i: usize, h: i32, side: bool) -> opencv::Result<Mat> {
        let (_, w) = self.widths(h);
        let mut img = Mat::new_rows_cols_with_default(h, w, CV_8UC3, Scalar::all(255.0))?;
        let fs = Self::font(h);
        let top = (30.0 * fs / 0.45) as f32;
        let bottom = (0.1 * h as f32).max(22.0);
        let usable = h as f32 - top - bottom;
        let scale = (usable / (self.above + self.below)).min((0.5 * w as f32 - 8.0) / self.reach);
        let ground = top + self.above * scale;
        let root = self.frames[i].root;
        let proj = |p: Vec3| -> Point {
            let horizontal = if side { -(p[2] - root[2]) } else { p[0] - root[0] };
            pt(0.5 * w as f32 + scale * horizontal, ground - scale * (p[1] - self.floor))
        };
        let grey = Scalar::all(170.0);
        imgproc::rectangle(&mut img, Rect::new(0, 0, w, h), Scalar::all(210.0), 1, imgproc::LINE_8, 0)?;
        imgproc::line(&mut img, pt(6.0, ground), pt(w as f32 - 6.0, ground), grey, 1, imgproc::LINE_8, 0)?;
        let pos = &self.joints[i];
        let thick = (h / 270).max(1) + 1;
        for j in 1..NUM_JOINTS {
            if let Some(p) = parent(j) {
                imgproc::line(&mut img, proj(pos[p]), proj(pos[j]), side_colour(smpl_side(j), false), thick, imgproc::LINE_AA, 0)?;
            }
        }
        imgproc::circle(&mut img, proj(pos[15]), thick + 3, side_colour(0, false), -1, imgproc::LINE_AA, 0)?;
        let black = Scalar::all(30.0);
        let title = if side { "3D from the side" } else { "3D from the camera" };
        text(&mut img, title, Point::new(5, (top * 0.6) as i32), fs, black)?;
        let note = if side { format!("z {:+.2} m, camera <-", root[2]) } else { format!("x {:+.2}  y {:+.2} m", root[0], root[1]) };
        text(&mut img, &note, Point::new(5, h - 7), fs * 0.9, Scalar::all(90.0))?;
        Ok(img)
    }
}
