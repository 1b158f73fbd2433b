//! mocapd: a real-time motion-capture daemon. Video in, SMPL-24 motion out.
//!
//! # Layout
//! Data flows one way, one folder per stage:
//! - [`source`]: frames from files, webcams, RTSP/HTTP streams and image directories, on named threads.
//! - [`pose`]: MoveNet through ONNX Runtime (`ort`), the crop that follows the performer, the
//!   performer tracker, and the `mocapd.keypoints/1` file format.
//! - [`config`]: raw TOML structs, validated once into resolved settings.
//! - [`skeleton`]: the SMPL-24 table, rotation conversions, forward kinematics, COCO-17 from SMPL.
//! - [`data`]: motion data: BVH read/write, registry fetch, retargeting onto SMPL-24, cameras.
//! - [`commands`]: what each CLI subcommand does; `main.rs` only parses arguments.

pub mod commands;
pub mod config;
pub mod pose;
pub mod source;
pub mod skeleton;
pub mod data;
