//! `SourceSpec`: what the user asked to read, parsed from one command-line string.

use super::SourceError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Frame rate assumed for an image directory unless the caller sets one.
pub const DEFAULT_IMAGE_DIR_FPS: f64 = 30.0;

/// A camera: an index for the default backend, or a V4L2 device path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraId {
    Index(i32),
    Device(PathBuf),
}

impl fmt::Display for CameraId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CameraId::Index(i) => write!(f, "{i}"),
            CameraId::Device(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Where frames come from.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSpec {
    /// A video file decoded by OpenCV/FFmpeg.
    File(PathBuf),
    /// A webcam.
    Camera(CameraId),
    /// A network stream: rtsp://, rtsps://, http:// or https://.
    Url(String),
    /// A directory of images (png/jpg/jpeg/bmp), sorted by file name, played at `fps`.
    ImageDir { path: PathBuf, fps: f64 },
    /// A `.jsonl` keypoints file. Not a frame source: the caller dispatches it elsewhere.
    Keypoints(PathBuf),
}

const URL_SCHEMES: [&str; 4] = ["rtsp://", "rtsps://", "http://", "https://"];

impl SourceSpec {
    /// Same as `s.parse()`.
    pub fn parse(s: &str) -> Result<Self, SourceError> {
        s.parse()
    }

    /// Whether frames arrive in real time regardless of pacing (camera or network stream).
    pub fn is_live(&self) -> bool {
        matches!(self, SourceSpec::Camera(_) | SourceSpec::Url(_))
    }
}

impl FromStr for SourceSpec {
    type Err = SourceError;

    fn from_str(s: &str) -> Result<Self, SourceError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(SourceError::EmptySpec);
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.parse::<i32>() {
                Ok(i) => Ok(SourceSpec::Camera(CameraId::Index(i))),
                Err(_) => Err(SourceError::CameraNotFound(s.to_string())),
            };
        }
        let lower = s.to_ascii_lowercase();
        if URL_SCHEMES.iter().any(|p| lower.starts_with(p)) {
            return Ok(SourceSpec::Url(s.to_string()));
        }
        if let Some(pos) = s.find("://") {
            let scheme = &s[..pos];
            if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
                return Err(SourceError::UnsupportedScheme(s.to_string()));
            }
        }
        let path = PathBuf::from(s);
        if s.starts_with("/dev/video") {
            return Ok(SourceSpec::Camera(CameraId::Device(path)));
        }
        if has_ext(&path, &["jsonl"]) {
            return Ok(SourceSpec::Keypoints(path));
        }
        if path.is_dir() || s.ends_with('/') {
            return Ok(SourceSpec::ImageDir { path, fps: DEFAULT_IMAGE_DIR_FPS });
        }
        Ok(SourceSpec::File(path))
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::File(p) | SourceSpec::Keypoints(p) => write!(f, "{}", p.display()),
            SourceSpec::Camera(c) => write!(f, "camera {c}"),
            SourceSpec::Url(u) => write!(f, "{u}"),
            SourceSpec::ImageDir { path, fps } => write!(f, "{} @ {fps} fps", path.display()),
        }
    }
}

/// Case-insensitive extension test.
pub(crate) fn has_ext(path: &Path, exts: &[&str]) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        assert_eq!(SourceSpec::parse("0").unwrap(), SourceSpec::Camera(CameraId::Index(0)));
        assert_eq!(SourceSpec::parse("/dev/video2").unwrap(), SourceSpec::Camera(CameraId::Device("/dev/video2".into())));
        for u in ["rtsp://h/x", "RTSPS://h/x", "http://h/x.mjpg", "https://h/x"] {
            assert_eq!(SourceSpec::parse(u).unwrap(), SourceSpec::Url(u.into()));
        }
        assert_eq!(SourceSpec::parse("a/b.jsonl").unwrap(), SourceSpec::Keypoints("a/b.jsonl".into()));
        assert_eq!(SourceSpec::parse(" clip.mp4 ").unwrap(), SourceSpec::File("clip.mp4".into()));
        assert!(matches!(SourceSpec::parse("frames/").unwrap(), SourceSpec::ImageDir { fps, .. } if fps == 30.0));
        assert!(matches!(SourceSpec::parse("ftp://x/y"), Err(SourceError::UnsupportedScheme(_))));
        assert!(matches!(SourceSpec::parse("  "), Err(SourceError::EmptySpec)));
    }
}
