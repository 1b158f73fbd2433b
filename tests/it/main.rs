//! mocapd's integration tests, one crate (one binary linking the library once), one module per
//! area. They run on real data: the demo clip (`assets/demo.mp4`), the MoveNet models, motion
//! capture fetched from pinned registry packages (into `$MOCAPD_TEST_DATA`, else
//! `target/test-data/raw`), a local GStreamer RTSP server, and the `mocapd` binary itself.
//! Helpers shared by several modules live in [`support`], once.
//!
//! `cargo test --release --test it` runs them all; `cargo test --release --test it -- sink::`
//! one module. Cargo.toml sets `autotests = false`: a new test file is a module here.

mod support;

mod cli;
mod daemon;
mod dataset;
mod fuzz_corpus;
mod keypoints_file;
mod motion_data;
mod pose;
mod preview;
mod recordings;
mod sink;
mod skeleton;
mod smpl_npz;
mod source;
mod validator;
