//! `SourceError`: every way opening a frame source can fail, each with a message saying what to do.

use std::path::PathBuf;

/// Why a frame source could not be opened. Messages name the input and suggest a fix.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("empty source: give a video file, camera index, /dev/videoN, rtsp:// or http(s):// URL, or image directory")]
    EmptySpec,
    #[error("unsupported URL scheme in '{0}': use rtsp://, rtsps://, http:// or https://")]
    UnsupportedScheme(String),
    #[error("'{0}' is a keypoints file, not a video source: open it with the keypoints reader")]
    KeypointsFile(PathBuf),
    #[error("video file '{0}' not found: check the path")]
    FileNotFound(PathBuf),
    #[error("'{0}' is a directory, not a video file: pass it as an image directory source")]
    FileIsDirectory(PathBuf),
    #[error("video file '{0}' is empty (0 bytes): give a complete recording")]
    EmptyFile(PathBuf),
    #[error("'{path}' is not a readable video (corrupt or unsupported codec): re-encode it with ffmpeg -i {path} -c:v libx264 out.mp4", path = .0.display())]
    NotAVideo(PathBuf),
    #[error("cannot open camera {0}: no such device (list cameras with v4l2-ctl --list-devices)")]
    CameraNotFound(String),
    #[error("cannot open camera {0}: the device exists but gives no frames (busy in another program, or no permission: check membership of the 'video' group)")]
    CameraUnavailable(String),
    #[error("{kind} stream {url} did not answer within {secs} s: check the URL and that the server is running")]
    StreamNoAnswer { kind: &'static str, url: String, secs: u64 },
    #[error("image directory '{0}' not found: check the path")]
    ImageDirNotFound(PathBuf),
    #[error("image directory '{0}' has no .png/.jpg/.jpeg/.bmp images: check the path or the file extensions")]
    ImageDirEmpty(PathBuf),
    #[error("cannot read image directory '{path}': {source}")]
    ImageDirUnreadable { path: PathBuf, source: std::io::Error },
    #[error("image '{0}' cannot be decoded (corrupt or unsupported format): re-save it as PNG or JPEG")]
    BadImage(PathBuf),
    #[error("image directory fps must be a positive number, got {0}")]
    BadFps(f64),
    #[error("OpenCV failed while opening {what}: {source}")]
    OpenCv { what: String, source: opencv::Error },
    #[error("cannot start the source thread: {0}")]
    Spawn(#[from] std::io::Error),
}
