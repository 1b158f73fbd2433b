//! `open()`: validates a `SourceSpec` synchronously, then starts its named reader thread.

use super::capture;
use super::handle::{Shared, SourceHandle, StreamInfo};
use super::live::{self, Live, LiveTarget};
use super::options::{Pacing, SourceOptions};
use super::queue::FrameSink;
use super::replay::{FrameReader, Replay};
use super::spec::{CameraId, SourceSpec};
use super::{file, images, SourceError};
use opencv::core::Mat;
use opencv::videoio::VideoCapture;
use std::time::Instant;

/// Opens a frame source. Errors that can be detected up front (missing file, undecodable video,
/// empty image directory, absent camera, unreachable stream without `retry_first_open`) are returned
/// here; afterwards frames arrive through the handle.
pub fn open(spec: &SourceSpec, options: &SourceOptions) -> Result<SourceHandle, SourceError> {
    match spec {
        SourceSpec::Keypoints(p) => Err(SourceError::KeypointsFile(p.clone())),
        SourceSpec::File(path) => {
            let (reader, first, info) = file::open_file(path)?;
            spawn_replay("source-file", &path.display().to_string(), reader, first, info, options)
        }
        SourceSpec::ImageDir { path, fps } => {
            let (reader, first, info) = images::open_dir(path, *fps)?;
            spawn_replay("source-images", &path.display().to_string(), reader, first, info, options)
        }
        SourceSpec::Camera(id) => open_camera(id, options),
        SourceSpec::Url(url) => open_url(url, options),
    }
}

fn spawn_replay(
    thread: &str,
    label: &str,
    reader: impl FrameReader + 'static,
    first: Mat,
    mut info: StreamInfo,
    options: &SourceOptions,
) -> Result<SourceHandle, SourceError> {
    info.live = options.pacing == Pacing::Native;
    let shared = Shared::new(info);
    let (sink, rx) = FrameSink::new(options.queue_capacity, info.live, shared.clone(), label);
    let replay =
        Replay { label: label.to_string(), fps: info.fps, pacing: options.pacing, looping: options.loop_file, sink, first: Some(first) };
    tracing::info!(source = label, width = info.width, height = info.height, fps = info.fps, frames = ?info.frame_count, pacing = ?options.pacing, "source opened");
    Ok(SourceHandle::spawn(thread, rx, shared, move |stop| replay.run(reader, stop))?)
}

fn open_camera(id: &CameraId, options: &SourceOptions) -> Result<SourceHandle, SourceError> {
    if let Some(node) = capture::camera_node(id) {
        if !node.exists() {
            return Err(SourceError::CameraNotFound(node.display().to_string()));
        }
    }
    let name = capture::camera_node(id).map_or_else(|| id.to_string(), |n| n.display().to_string());
    let cap = capture::open_camera(id)
        .map_err(|e| SourceError::OpenCv { what: format!("camera {name}"), source: e })?
        .ok_or_else(|| SourceError::CameraUnavailable(name.clone()))?;
    spawn_live("source-camera", LiveTarget::Camera(id.clone()), Some(cap), options)
}

fn open_url(url: &str, options: &SourceOptions) -> Result<SourceHandle, SourceError> {
    let target = LiveTarget::Url(url.to_string());
    let first = if options.retry_first_open {
        None
    } else {
        let t0 = Instant::now();
        let cap = target.connect(options.network_timeout).ok_or_else(|| SourceError::StreamNoAnswer {
            kind: live::url_kind(url),
            url: target.label(),
            secs: options.network_timeout.as_secs_f64().ceil() as u64,
        })?;
        tracing::debug!(source = %target.label(), elapsed_ms = t0.elapsed().as_millis() as u64, "stream answered");
        Some(cap)
    };
    spawn_live("source-stream", target, first, options)
}

fn spawn_live(thread: &str, target: LiveTarget, first: Option<VideoCapture>, options: &SourceOptions) -> Result<SourceHandle, SourceError> {
    let label = target.label();
    let shared = Shared::new(StreamInfo { live: true, ..StreamInfo::default() });
    if let Some(cap) = &first {
        live::publish_info(&shared, cap);
        let i = shared.info.lock().map(|g| *g).unwrap_or_default();
        tracing::info!(source = %label, width = i.width, height = i.height, fps = i.fps, "source opened");
    } else {
        tracing::info!(source = %label, "source starting; connecting in the background");
    }
    let (sink, rx) = FrameSink::new(options.queue_capacity, true, shared.clone(), &label);
    let live = Live {
        target,
        label,
        sink,
        shared: shared.clone(),
        timeout: options.network_timeout,
        backoff_min: options.reconnect_min.max(std::time::Duration::from_millis(10)),
        backoff_max: options.reconnect_max.max(options.reconnect_min),
        start: Instant::now(),
    };
    Ok(SourceHandle::spawn(thread, rx, shared, move |stop| live.run(first, stop))?)
}
