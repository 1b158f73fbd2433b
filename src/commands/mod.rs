//! CLI subcommands: each takes resolved settings and runs one job; `main.rs` only parses arguments.
// `Error` gathers every stage's error and is returned once per process, at the end of a
// command: its size costs nothing, boxing each variant would only add noise.
#![allow(clippy::result_large_err)]

pub mod bench;
pub mod data;
pub mod eval;
pub mod keypoints;
pub mod lift;
pub mod recover;
pub mod run;

use std::path::PathBuf;

/// Any subcommand's failure: one clear message naming the thing and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    Pose(#[from] crate::pose::PoseError),
    #[error(transparent)]
    Record(#[from] crate::pose::record::RecordError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Fetch(#[from] crate::data::fetch::FetchError),
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::PipelineError),
    #[error(transparent)]
    Sink(#[from] crate::sink::SinkError),
    #[error("OpenCV: {0}")]
    OpenCv(#[from] opencv::Error),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write '{path}': {source}")]
    Write { path: PathBuf, source: std::io::Error },
}
