//! Video file sources: validation at open, then a `FrameReader` over OpenCV for the replay thread.

use super::capture::{self, FALLBACK_FPS};
use super::handle::StreamInfo;
use super::replay::FrameReader;
use super::SourceError;
use opencv::core::Mat;
use opencv::videoio::VideoCapture;
use std::path::{Path, PathBuf};

pub(crate) struct FileReader {
    path: PathBuf,
    cap: VideoCapture,
    expected: Option<u64>,
}

/// Checks that `path` is a video OpenCV can decode; returns the reader, its first image and info.
pub(crate) fn open_file(path: &Path) -> Result<(FileReader, Mat, StreamInfo), SourceError> {
    if path.is_dir() {
        return Err(SourceError::FileIsDirectory(path.to_path_buf()));
    }
    if !path.exists() {
        return Err(SourceError::FileNotFound(path.to_path_buf()));
    }
    // An empty file is refused before OpenCV sees it: its GStreamer backend would print a page
    // of GStreamer-CRITICAL warnings before giving up.
    if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
        return Err(SourceError::EmptyFile(path.to_path_buf()));
    }
    let not_video = || SourceError::NotAVideo(path.to_path_buf());
    let mut cap = match capture::open_file(path) {
        Ok(Some(cap)) => cap,
        Ok(None) => return Err(not_video()),
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "OpenCV refused the file");
            return Err(not_video());
        }
    };
    let first = match capture::read(&mut cap) {
        Ok(Some(m)) => m,
        Ok(None) => return Err(not_video()),
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "first frame failed to decode");
            return Err(not_video());
        }
    };
    let p = capture::probe(&cap);
    let (width, height) = mat_size(&first).unwrap_or((p.width, p.height));
    let info = StreamInfo { width, height, fps: p.fps.unwrap_or(FALLBACK_FPS), frame_count: p.frame_count, live: false };
    if p.fps.is_none() {
        tracing::warn!(path = %path.display(), "video does not state its frame rate; assuming {FALLBACK_FPS} fps");
    }
    Ok((FileReader { path: path.to_path_buf(), cap, expected: p.frame_count }, first, info))
}

/// Width and height of a decoded image.
pub(crate) fn mat_size(m: &Mat) -> Option<(u32, u32)> {
    use opencv::core::MatTraitConst;
    let (w, h) = (m.cols(), m.rows());
    (w > 0 && h > 0).then_some((w as u32, h as u32))
}

impl FrameReader for FileReader {
    fn next_image(&mut self) -> Option<Mat> {
        match capture::read(&mut self.cap) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "decode error; ending the stream");
                None
            }
        }
    }

    fn rewind(&mut self) -> bool {
        match capture::open_file(&self.path) {
            Ok(Some(cap)) => {
                self.cap = cap;
                true
            }
            Ok(None) => {
                tracing::warn!(path = %self.path.display(), "cannot reopen the file to loop it; ending");
                false
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot reopen the file to loop it; ending");
                false
            }
        }
    }

    fn expected_len(&self) -> Option<u64> {
        self.expected
    }
}
