//! Motion data: pinned registry downloads ([`fetch`]), retargeting of BVH and other mocap onto
//! SMPL-24 clips ([`crate::motion::Motion`]): retargeting onto SMPL-24 ([`retarget`], name tables
//! in [`rigs`]), DeepMimic JSON clips ([`deepmimic`]), augmentation
//! ([`augment`]), pinhole cameras ([`camera`]) and noisy 2D keypoints ([`synth2d`]); BVH folders
//! such as the CMU corpus and the held-out CMU subjects ([`cmu`]).

pub mod augment;
pub mod body;
pub mod build;
pub mod camera;
pub mod cmu;
#[cfg(test)]
mod cmu_tests;
pub mod cond2d;
pub mod deepmimic;
pub mod error;
pub mod fetch;
pub mod procedural;
pub mod retarget;
pub mod rigs;
pub mod smpl_npz;
pub mod sources;
pub mod synth2d;

pub use error::DataError;
pub mod coverage;
pub mod preview;
pub mod stats;
