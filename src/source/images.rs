//! Image-directory sources: listing and sorting the images, and a `FrameReader` over them.

use super::file::mat_size;
use super::handle::StreamInfo;
use super::replay::FrameReader;
use super::spec::has_ext;
use super::SourceError;
use opencv::core::{Mat, MatTraitConst};
use opencv::imgcodecs;
use std::path::{Path, PathBuf};

const IMAGE_EXTS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

pub(crate) struct ImageDirReader {
    files: Vec<PathBuf>,
    next: usize,
}

/// Image files in `dir`, sorted by file name.
pub fn list_images(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    if !dir.is_dir() {
        return Err(SourceError::ImageDirNotFound(dir.to_path_buf()));
    }
    let unreadable = |e| SourceError::ImageDirUnreadable { path: dir.to_path_buf(), source: e };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.is_file() && has_ext(&path, &IMAGE_EXTS) {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

fn load(path: &Path) -> Option<Mat> {
    match imgcodecs::imread(path, imgcodecs::IMREAD_COLOR) {
        Ok(m) if !m.empty() => Some(m),
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "imread failed");
            None
        }
    }
}

/// Validates the directory and decodes its first image.
pub(crate) fn open_dir(dir: &Path, fps: f64) -> Result<(ImageDirReader, Mat, StreamInfo), SourceError> {
    if !(fps.is_finite() && fps > 0.0) {
        return Err(SourceError::BadFps(fps));
    }
    let files = list_images(dir)?;
    let Some(first_path) = files.first() else {
        return Err(SourceError::ImageDirEmpty(dir.to_path_buf()));
    };
    let first = load(first_path).ok_or_else(|| SourceError::BadImage(first_path.clone()))?;
    let (width, height) = mat_size(&first).unwrap_or((0, 0));
    let info = StreamInfo { width, height, fps, frame_count: Some(files.len() as u64), live: false };
    Ok((ImageDirReader { files, next: 1 }, first, info))
}

impl FrameReader for ImageDirReader {
    fn next_image(&mut self) -> Option<Mat> {
        while let Some(path) = self.files.get(self.next) {
            self.next += 1;
            match load(path) {
                Some(m) => return Some(m),
                None => {
                    tracing::warn!(path = %path.display(), "skipping an image that cannot be decoded")
                }
            }
        }
        None
    }

    fn rewind(&mut self) -> bool {
        self.next = 0;
        true
    }

    fn expected_len(&self) -> Option<u64> {
        None
    }
}
