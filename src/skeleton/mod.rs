//! The SMPL-24 skeleton: the joint table ([`smpl`]), rotation conversions ([`rotation`]),
//! forward kinematics ([`fk`]), COCO-17 keypoints from SMPL joints ([`coco`]) and the similarity
//! alignment of two poses ([`procrustes`]).

pub mod coco;
pub mod fk;
pub mod procrustes;
pub mod rotation;
pub mod smpl;

pub use fk::{forward_kinematics, smpl_fk, smpl_fk_posed};
pub use rotation::{Mat3, Quat, Vec3};
pub use smpl::{JOINT_NAMES, NUM_JOINTS, PARENTS, REST_JOINTS};
