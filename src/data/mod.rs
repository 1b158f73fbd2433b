//! Motion data: BVH reading and writing ([`bvh`], [`bvh_write`]), pinned registry downloads
//! ([`fetch`]), SMPL-24 clips ([`motion`]), retargeting onto SMPL-24 ([`retarget`], name tables
//! in [`rigs`]), DeepMimic JSON clips ([`deepmimic`]), training-target features
//! ([`features`]), pinhole cameras ([`camera`]) and noisy 2D keypoints ([`synth2d`]).

pub mod build;
pub mod bvh;
mod bvh_parse;
pub mod bvh_write;
pub mod camera;
pub mod cond2d;
pub mod deepmimic;
pub mod error;
pub mod features;
pub mod fetch;
pub mod motion;
pub mod procedural;
pub mod retarget;
pub mod rigs;
pub mod smpl_npz;
pub mod sources;
pub mod synth2d;

pub use error::DataError;
pub mod preview;
pub mod stats;
