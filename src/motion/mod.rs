//! The motion contract every stage shares: what one frame of SMPL-24 motion is, how it becomes
//! the model's features and back, where it is placed, what the 2D condition looks like, and how
//! it is stored. A change of motion representation happens here and nowhere else.
//!
//! - [`contract`]: the versions of this contract ([`Contract`]: first-frame, gravity-view)
//!   that data sets and checkpoints record.
//! - [`frame`]: [`MotionFrame`] (root, 24 local rotations, contact scores, `inferred`), its
//!   validity check and sanitiser, quaternion sign continuity.
//! - [`clip`]: [`Motion`], an SMPL-24 clip (resampling, floor alignment).
//! - [`codec`]: the 151-value per-frame features (named offsets), `encode`/`decode`, the
//!   model-space [`Normalizer`].
//! - [`placement`]: the canonical placement (yaw + horizontal shift) of training windows and of
//!   each window at inference.
//! - [`frame2d`]: [`Frame2d`] (COCO-17 pixels) and the window normalisation the model sees.
//! - [`bvh`]: SMPL-24 as a BVH skeleton (what `lift` and the recorder write, what `data preview`
//!   reads back).
//! - [`mod@file`]: the `mocapd.motion/1` JSON Lines file.
//! - [`resample`]: the model's frame rate at inference ([`MODEL_FPS`]): resampling lifted frames
//!   back to the input's timestamps, the live decimator.
pub mod bvh;
pub mod clip;
pub mod codec;
pub mod contract;
pub mod file;
pub mod frame;
pub mod frame2d;
pub mod placement;
pub mod resample;

pub use clip::{Motion, MotionError};
pub use codec::{decode, decode_frame, encode, encode_frame, Normalizer, FEATURE_DIM};
pub use contract::Contract;
pub use file::{read_motion, read_motion_report, write_motion, MotionFileError, MotionHeader, MotionRead, MotionWriter, Truncation};
pub use frame::MotionFrame;
pub use frame2d::{normalize_sequence, Frame2d};
pub use placement::Placement;
pub use resample::{at_model_rate, resample_frames, Decimator};

/// The frame rate the model works at (training windows and inference): 30 fps.
pub const MODEL_FPS: f64 = 30.0;

#[cfg(test)]
mod tests;
