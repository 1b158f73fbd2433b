//! The ViMo-style denoiser in candle: 2D pose encoder, per-frame timestep embedding, FiLM-
//! modulated transformer blocks, predicting clean motion x0 (ViMo
//! §3.3).
pub mod attention;
pub mod block;
pub mod checkpoint;
pub mod config;
pub mod denoiser;
pub mod encoder;
pub mod onnx;
pub mod runtime;
pub mod timestep;

pub use checkpoint::{
    load_checkpoint, save_checkpoint, save_checkpoint_as, save_random_checkpoint, save_random_checkpoint_as, Checkpoint, CheckpointError,
    MotionStats,
};
pub use config::{Activation, FilmVariant, ModelConfig};
pub use denoiser::{Denoiser, PoseCondition};
pub use runtime::tune_allocator;

#[cfg(test)]
mod tests;
