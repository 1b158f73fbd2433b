//! [`DataError`]: why building, previewing or summarising a data set failed.

use std::path::PathBuf;

/// Why a data-set operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Bvh(#[from] crate::bvh::BvhError),
    #[error(transparent)]
    DeepMimic(#[from] super::deepmimic::DeepMimicError),
    #[error("take `{take}`: {source}")]
    Retarget { take: String, source: super::retarget::RetargetError },
    #[error("take `{take}`: {source}")]
    Motion { take: String, source: crate::motion::MotionError },
    #[error("take `{take}`: {source}")]
    Smpl { take: String, source: super::smpl_npz::NpzError },
    #[error("take `{take}` is empty (no frames)")]
    EmptyClip { take: String },
    #[error("take `{take}` is too short: {frames} frames, a clip needs {needed}")]
    TooShort { take: String, frames: usize, needed: usize },
    #[error("take `{take}` has a NaN or infinite value at frame {frame}")]
    NonFinite { take: String, frame: usize },
    #[error("{path}: no known rig matches its joint names (known: {known}); pass a rig name", known = super::rigs::rig_names())]
    UnknownRig { path: PathBuf },
    #[error("unknown rig `{0}` (known: {known})", known = super::rigs::rig_names())]
    BadRigName(String),
    #[error("`{name}` is neither a motion file nor a fetched source (sources: {known}); run `mocapd data fetch` first?")]
    UnknownSource { name: String, known: String },
    #[error("no motion takes found under {dir}; run `mocapd data fetch` first, or raise the procedural minutes")]
    NoTakes { dir: PathBuf },
    #[error("invalid option: {0}")]
    BadOptions(String),
    #[error("safetensors: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error("{path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("{path}: {reason}")]
    BadDataset { path: PathBuf, reason: String },
    /// No built data set where one was expected (a fresh clone): says how to make one.
    #[error(
        "no built data set in {} (no manifest.json{}): run `mocapd data fetch` then `mocapd data build` (it writes data/train), or name a built set (`eval --data DIR`, `data stats --dir DIR`, data_dir in a training config)",
        dir.display(),
        if dir.is_dir() { "" } else { "; the folder does not exist" }
    )]
    NoDataset { dir: PathBuf },
    #[error("opencv: {0}")]
    OpenCv(#[from] opencv::Error),
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io { path: path.to_path_buf(), source }
}
