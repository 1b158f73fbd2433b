//! mocapd: a real-time motion-capture daemon. Video in, SMPL-24 motion out.
//!
//! # Layout
//! Data flows one way, one folder per stage:
//! - [`source`]: frames from files, webcams, RTSP/HTTP streams and image directories, on named threads.
//! - [`pose`]: MoveNet through ONNX Runtime (`ort`), the crop that follows the performer, the
//!   performer tracker, and the `mocapd.keypoints/1` file format.
//! - [`config`]: raw TOML structs, validated once into resolved settings.
//! - [`commands`]: what each CLI subcommand does; `main.rs` only parses arguments.
//! - [`model`]: the ViMo-style candle denoiser (pose encoder, per-frame timestep FiLM blocks, x0 output).
//! - [`diffusion`]: noise schedule, forward noising with PTSS timesteps, SNR loss weightings.
//! - [`sampler`]: DDPM/DDIM from x0 predictions, classifier-free guidance, masked in-filling.
//! - [`train`]: loss assembly of one training step (PTSS, condition dropout, SNR-weighted x0 + velocity).

pub mod commands;
pub mod config;
pub mod diffusion;
pub mod model;
pub mod pose;
pub mod sampler;
pub mod source;
pub mod train;
