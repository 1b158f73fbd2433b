//! Motion data: BVH reading and writing ([`bvh`], [`bvh_write`]), pinned registry downloads
//! ([`fetch`]), SMPL-24 clips ([`motion`]), retargeting onto SMPL-24 ([`retarget`], name tables
//! in [`rigs`]), DeepMimic JSON clips ([`deepmimic`]), training-target features
//! ([`features`]), pinhole cameras ([`camera`]) and noisy 2D keypoints ([`synth2d`]).

pub mod bvh;
mod bvh_parse;
pub mod bvh_write;
pub mod camera;
pub mod deepmimic;
pub mod features;
pub mod fetch;
pub mod motion;
pub mod smpl_npz;
pub mod retarget;
pub mod rigs;
pub mod synth2d;
pub mod build;
pub mod cond2d;
pub mod error;
pub mod procedural;
pub mod sources;

pub use error::DataError;
pub mod stats;
pub mod preview;
