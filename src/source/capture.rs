//! Thin helpers over OpenCV `VideoCapture`: opening files, cameras and URLs, probing, reading one frame.

use super::spec::CameraId;
use opencv::core::{Mat, MatTraitConst, Vector};
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture};
use std::path::Path;
use std::time::Duration;

/// Frame rate used when a container does not say (or says something absurd).
pub(crate) const FALLBACK_FPS: f64 = 30.0;

/// Width, height, fps and frame count as reported by the backend.
pub(crate) struct Probe {
    pub width: u32,
    pub height: u32,
    pub fps: Option<f64>,
    pub frame_count: Option<u64>,
}

pub(crate) fn probe(cap: &VideoCapture) -> Probe {
    let get = |p| cap.get(p).unwrap_or(0.0);
    let fps = get(videoio::CAP_PROP_FPS);
    let count = get(videoio::CAP_PROP_FRAME_COUNT);
    Probe {
        width: get(videoio::CAP_PROP_FRAME_WIDTH).max(0.0) as u32,
        height: get(videoio::CAP_PROP_FRAME_HEIGHT).max(0.0) as u32,
        fps: (fps.is_finite() && fps > 0.0 && fps <= 1000.0).then_some(fps),
        frame_count: (count.is_finite() && count >= 1.0).then_some(count as u64),
    }
}

/// Opens a video file with FFmpeg, then any other backend; `None` when nothing can open it.
pub(crate) fn open_file(path: &Path) -> opencv::Result<Option<VideoCapture>> {
    if let Ok(cap) = VideoCapture::from_file(path, videoio::CAP_FFMPEG) {
        if cap.is_opened()? {
            return Ok(Some(cap));
        }
    }
    let cap = VideoCapture::from_file(path, videoio::CAP_ANY)?;
    Ok(cap.is_opened()?.then_some(cap))
}

/// Opens a network stream through FFmpeg with open and read timeouts.
pub(crate) fn open_url(url: &str, timeout: Duration) -> opencv::Result<Option<VideoCapture>> {
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX).max(1);
    let params = Vector::<i32>::from_slice(&[videoio::CAP_PROP_OPEN_TIMEOUT_MSEC, ms, videoio::CAP_PROP_READ_TIMEOUT_MSEC, ms]);
    let cap = VideoCapture::from_file_with_params(url, videoio::CAP_FFMPEG, &params)?;
    Ok(cap.is_opened()?.then_some(cap))
}

/// Opens a camera by index or V4L2 device path.
pub(crate) fn open_camera(id: &CameraId) -> opencv::Result<Option<VideoCapture>> {
    let cap = match id {
        CameraId::Index(i) => VideoCapture::new(*i, videoio::CAP_ANY)?,
        CameraId::Device(p) => VideoCapture::from_file(p, videoio::CAP_V4L2)?,
    };
    Ok(cap.is_opened()?.then_some(cap))
}

/// Reads the next frame: `Ok(None)` at the end of the stream (or on a read timeout).
pub(crate) fn read(cap: &mut VideoCapture) -> opencv::Result<Option<Mat>> {
    let mut mat = Mat::default();
    if !cap.read(&mut mat)? || mat.empty() {
        return Ok(None);
    }
    Ok(Some(mat))
}

/// Device node that a camera id refers to, where one can be named (Linux).
pub(crate) fn camera_node(id: &CameraId) -> Option<std::path::PathBuf> {
    match id {
        CameraId::Device(p) => Some(p.clone()),
        CameraId::Index(i) if cfg!(target_os = "linux") => Some(format!("/dev/video{i}").into()),
        CameraId::Index(_) => None,
    }
}
