//! mocapd: a real-time motion-capture daemon. Video in, SMPL-24 motion out.
//!
//! # Layout
//! One folder per stage; data flows one way. Modules are listed in dependency order: each uses
//! only modules above it (`tools/check_layers.py`, run by CI, fails on an import cycle).
//! - [`assets`]: where the bundled files (models, checkpoint, ONNX Runtime) are found when their
//!   path is the default: the working directory, beside the executable and its ancestors, an
//!   install prefix's `share/mocapd/`.
//! - [`skeleton`]: the SMPL-24 table, rotation conversions, forward kinematics, COCO-17 names and
//!   COCO-17 from SMPL.
//! - [`bvh`]: the BVH file format: data model, parser (any channel order), writer.
//! - [`motion`]: **the motion contract** every stage shares: [`motion::MotionFrame`], SMPL-24
//!   clips, the 151-value feature codec and its normaliser, canonical placement, the 2D
//!   condition ([`motion::Frame2d`] and its window normalisation), SMPL-24 as a BVH skeleton, and
//!   the `mocapd.motion/1` file.
//! - [`diffusion`]: noise schedule and forward noising (what the sampler inverts).
//! - [`onnxrt`]: finds and loads the ONNX Runtime library once per process; the environment
//!   that [`pose`] and the denoiser's ONNX engine ([`model::onnx`]) share.
//! - [`model`]: the ViMo-style candle denoiser (pose encoder, per-frame timestep FiLM blocks, x0
//!   output), its checkpoint, and its per-step forward exported in memory to ONNX Runtime
//!   ([`model::onnx`]).
//! - [`sampler`]: DDPM/DDIM from x0 predictions, classifier-free guidance, masked in-filling.
//! - [`infer`]: the inference core shared by the daemon and the offline commands:
//!   [`infer::Lifter`] samples one window of motion from 2D keypoints, with in-filling.
//! - [`source`]: frames from files, webcams, RTSP/HTTP streams and image directories, on named
//!   threads.
//! - [`pose`]: MoveNet through ONNX Runtime (`ort`), the crop that follows the performer, the
//!   performer tracker, the `mocapd.keypoints/1` file format and the performer's 2D track.
//! - [`window`]: the live 2D history, a ring of the performer's last S poses.
//! - [`sink`]: where motion goes: VMC and plain OSC over UDP, crash-safe BVH, `.vrma` and
//!   `mocapd.motion/1` recorders, take naming (never over an existing take) and crash recovery.
//! - [`pipeline`]: `mocapd run`/`bench`: input → pose → window → denoise loop (in-filling,
//!   One-Euro smoothing) → UDP sender tasks on a tokio runtime and a `recorders` thread, stats.
//! - [`data`]: motion data for training: registry fetch, BVH/AMASS/AIST++/DeepMimic readers,
//!   retargeting onto SMPL-24, the training-set builder (virtual cameras, detector noise),
//!   previews and stats.
//! - [`config`]: raw TOML structs, validated once (no I/O) into the stages' settings.
//! - [`lift`]: `mocapd lift` (keypoint file → motion file) and `mocapd eval` (offline, and through
//!   the daemon's own streaming loop), with the metrics.
//! - [`commands`]: what each CLI subcommand does; `main.rs` only parses arguments.

pub mod assets;
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
pub mod window;
