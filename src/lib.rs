//! mocapd: a real-time motion-capture daemon. Video in, SMPL-24 motion out.
//!
//! # Layout
//! Data flows one way, one folder per stage:
//! - [`source`]: frames from files, webcams, RTSP/HTTP streams and image directories, on named threads.
//! - [`pose`]: MoveNet through ONNX Runtime (`ort`), the crop that follows the performer, the
//!   performer tracker, and the `mocapd.keypoints/1` file format.
//! - [`onnxrt`]: finds and loads the ONNX Runtime library once per process; the environment
//!   that [`pose`] and the denoiser's ONNX engine ([`model::onnx`]) share.
//! - [`config`]: raw TOML structs, validated once into resolved settings.
//! - [`skeleton`]: the SMPL-24 table, rotation conversions, forward kinematics, COCO-17 from SMPL.
//! - [`data`]: motion data: BVH/AMASS/AIST++/DeepMimic readers, registry fetch, retargeting onto
//!   SMPL-24, the training-set builder (virtual cameras, detector noise), previews and stats.
//! - [`model`]: the ViMo-style candle denoiser (pose encoder, per-frame timestep FiLM blocks, x0
//!   output), and its per-step forward exported in memory to ONNX Runtime (`model::onnx`).
//! - [`diffusion`]: noise schedule, forward noising with PTSS timesteps, SNR loss weightings.
//! - [`lift`]: offline lifting of keypoint files to SMPL-24 motion (`mocapd.motion/1`), metrics, eval.
//! - [`sampler`]: DDPM/DDIM from x0 predictions, classifier-free guidance, masked in-filling.
//! - [`train`]: `mocapd train`: the loss of one step (PTSS, condition dropout, SNR-weighted x0,
//!   velocity, FK joints, foot), Adan/AdamW, the loop, logs, plots, run comparison.
//! - [`sink`]: where motion goes: VMC and plain OSC over UDP, crash-safe BVH and `.vrma` recorders.
//! - [`window`]: the live 2D history, a ring of the performer's last S poses.
//! - [`pipeline`]: `mocapd run`/`bench`: input → pose → window → denoise loop (in-filling,
//!   One-Euro smoothing) → sink tasks on a tokio runtime, stats; the same loop drives
//!   `mocapd eval --streaming`.
//! - [`commands`]: what each CLI subcommand does; `main.rs` only parses arguments.

pub mod bvh;
pub mod commands;
pub mod config;
pub mod data;
pub mod diffusion;
pub mod infer;
pub mod lift;
pub mod model;
pub mod motion;
pub mod onnxrt;
pub mod pipeline;
pub mod pose;
pub mod sampler;
pub mod sink;
pub mod skeleton;
pub mod source;
pub mod train;
pub mod window;
