//! Motion data: BVH reading and writing ([`bvh`], [`bvh_write`]), pinned registry downloads
//! ([`fetch`]), retargeting onto SMPL-24 ([`retarget`]) and pinhole cameras ([`camera`]).

pub mod bvh;
mod bvh_parse;
pub mod bvh_write;
pub mod camera;
pub mod fetch;
pub mod retarget;
