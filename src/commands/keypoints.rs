//! `mocapd keypoints`: a video, camera or stream in, a `mocapd.keypoints/1` file (and a preview) out.

use super::Error;
use crate::config::Settings;
use crate::pose::draw::{draw_pose, ContactSheet};
use crate::pose::record::{Header, KeypointWriter};
use crate::pose::PoseEstimator;
use crate::source::{self, SourceSpec};
use indicatif::{ProgressBar, ProgressStyle};
use opencv::prelude::*;
use opencv::videoio::VideoWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `mocapd keypoints` was asked to do.
pub struct KeypointsJob {
    pub input: String,
    pub out: PathBuf,
    /// A `.png`/`.jpg` (a contact sheet of evenly spread frames) or a video file (every frame).
    pub preview: Option<PathBuf>,
}

/// What a finished run measured.
#[derive(Debug)]
pub struct KeypointsSummary {
    pub frames: u64,
    pub frames_with_performer: u64,
    pub dropped: u64,
    pub seconds: f64,
}

enum Preview {
    Sheet(PathBuf, ContactSheet),
    Video(VideoWriter),
}

pub fn run(job: &KeypointsJob, settings: &Settings) -> Result<KeypointsSummary, Error> {
    let mut spec: SourceSpec = job.input.parse()?;
    if let SourceSpec::ImageDir { fps, .. } = &mut spec {
        *fps = settings.image_fps;
    }
    if let SourceSpec::Keypoints(path) = &spec {
        return Err(Error::Usage(format!(
            "'{}' is already a keypoint file: give a video, camera, stream or image directory",
            path.display()
        )));
    }
    let mut estimator = PoseEstimator::new(&settings.pose)?;
    let source = source::open(&spec, &settings.source)?;
    let info = source.info();
    let header = Header::new(info.fps, info.width, info.height, job.input.clone());
    let mut writer = KeypointWriter::create(&job.out, &header)?;
    let mut preview = match &job.preview {
        None => None,
        Some(p) => Some(open_preview(p, info.fps, info.width, info.height)?),
    };

    let bar = progress_bar(info.frame_count);
    let started = Instant::now();
    let (mut frames, mut with_performer) = (0u64, 0u64);
    while let Some(mut frame) = source.recv() {
        let pose = estimator.estimate(&frame.image, frame.seq, frame.t)?;
        writer.write(&pose)?;
        frames += 1;
        with_performer += u64::from(pose.performer().is_some());
        match &mut preview {
            Some(Preview::Video(w)) => {
                draw_pose(&mut frame.image, &pose, settings.pose.min_confidence)?;
                w.write(&frame.image)?;
            }
            Some(Preview::Sheet(_, sheet)) if sheet.wants(frame.seq) => {
                draw_pose(&mut frame.image, &pose, settings.pose.min_confidence)?;
                sheet.add(frame.seq, frame.t, &frame.image)?;
            }
            _ => {}
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    writer.finish()?;
    match preview {
        Some(Preview::Sheet(path, sheet)) => sheet.write(&path, 8, 4)?,
        Some(Preview::Video(mut w)) => w.release()?,
        None => {}
    }
    let dropped = source.stats().frames_dropped;
    Ok(KeypointsSummary { frames, frames_with_performer: with_performer, dropped, seconds: started.elapsed().as_secs_f64() })
}

fn open_preview(path: &Path, fps: f64, width: u32, height: u32) -> Result<Preview, Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::Usage(format!("cannot create {}: {e}", dir.display())))?;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if matches!(ext.as_str(), "png" | "jpg" | "jpeg") {
        // One thumbnail per half second is plenty to pick 8 evenly spread frames from.
        return Ok(Preview::Sheet(path.into(), ContactSheet::new((fps / 2.0).round().max(1.0) as u64, 480)));
    }
    if !matches!(ext.as_str(), "mp4" | "avi" | "mkv") {
        return Err(Error::Usage(format!("--preview {}: use a .png or .jpg (contact sheet) or .mp4/.avi/.mkv (video)", path.display())));
    }
    let fourcc = VideoWriter::fourcc('m', 'p', '4', 'v')?;
    let size = opencv::core::Size::new(width as i32, height as i32);
    let writer = VideoWriter::new_def(path, fourcc, fps, size)?;
    if !writer.is_opened()? {
        return Err(Error::Usage(format!("cannot write preview video {}", path.display())));
    }
    Ok(Preview::Video(writer))
}

fn progress_bar(len: Option<u64>) -> ProgressBar {
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} frames {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
