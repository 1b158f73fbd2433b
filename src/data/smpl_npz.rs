//! SMPL parameter files that users bring: AMASS `.npz` and AIST++ motions, read into [`Motion`].
//!
//! - **AMASS** (`poses` (N, 156 SMPL-H or 72 SMPL) axis-angle, `trans` (N, 3), `mocap_framerate`):
//!   world is Z up, so the root is turned to our Y up (x, y, z) -> (x, z, -y). SMPL-H has no
//!   SMPL hand joints 22/23: they stay at identity.
//! - **AIST++** motions are Python pickles (`smpl_poses` (N, 72), `smpl_trans` (N, 3),
//!   `smpl_scaling` (1,), 60 fps, Y up). Convert one to `.npz` first with:
//!   `python3 -c "import pickle,sys,numpy as n; n.savez(sys.argv[2], **pickle.load(open(sys.argv[1],'rb')))" in.pkl out.npz`
//!   The translation is divided by `smpl_scaling` to give metres.
//!
//! SMPL rotates the body about the pelvis joint, so the pelvis sits at `J_pelvis + trans`.

use crate::motion::Motion;
use crate::skeleton::rotation::{axis_angle_to_quat, quat_mul, Quat, Vec3};
use crate::skeleton::smpl::{NUM_JOINTS, REST_JOINTS};
use candle_core::npy::NpzTensors;
use candle_core::{DType, Tensor};
use std::path::{Path, PathBuf};

/// AIST++ motions are captured at 60 fps.
pub const AIST_FPS: f32 = 60.0;

/// Why an SMPL parameter file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NpzError {
    #[error("{path}: not a readable .npz file ({message})")]
    Read { path: PathBuf, message: String },
    #[error("{path}: no array `{name}`; is this an {layout} file?")]
    Missing { path: PathBuf, name: &'static str, layout: &'static str },
    #[error("{path}: `{name}` has shape {shape:?}, expected {expected}")]
    Shape { path: PathBuf, name: &'static str, shape: Vec<usize>, expected: &'static str },
    #[error("{path}: `{name}` holds a NaN or infinite value (frame {frame})")]
    NonFinite { path: PathBuf, name: &'static str, frame: usize },
    #[error("{path}: {problem}")]
    Bad { path: PathBuf, problem: String },
}

/// Reads an AIST++ file when it has `smpl_poses`, else an AMASS file.
pub fn read_smpl(path: &Path) -> Result<Motion, NpzError> {
    let names = NpzTensors::new(path).map_err(|e| NpzError::Read { path: path.into(), message: e.to_string() })?;
    if names.names().iter().any(|n| n.as_str() == "smpl_poses") {
        read_aist(path)
    } else {
        read_amass(path)
    }
}

/// Reads an AMASS `.npz` (Z up, any frame rate).
pub fn read_amass(path: &Path) -> Result<Motion, NpzError> {
    let file = Npz::open(path, "AMASS")?;
    let poses = file.matrix("poses", &[156, 72], "(N, 156) or (N, 72)")?;
    let trans = file.matrix("trans", &[3], "(N, 3)")?;
    let fps = file.scalar("mocap_framerate")?;
    // Z up -> Y up: a -90 degree turn about X.
    let to_y_up = axis_angle_to_quat([-std::f32::consts::FRAC_PI_2, 0.0, 0.0]);
    let turn = |v: Vec3| [v[0], v[2], -v[1]];
    build(&file, &poses, &trans, fps, 1.0, |q, root| (quat_mul(to_y_up, q), turn(root)))
}

/// Reads an AIST++ motion converted to `.npz` (see the module docs), Y up at 60 fps.
pub fn read_aist(path: &Path) -> Result<Motion, NpzError> {
    let file = Npz::open(path, "AIST++")?;
    let poses = file.matrix("smpl_poses", &[72], "(N, 72)")?;
    let trans = file.matrix("smpl_trans", &[3], "(N, 3)")?;
    let scaling = file.scalar("smpl_scaling")?;
    if scaling.is_nan() || scaling <= 0.0 {
        return Err(NpzError::Bad { path: file.path.clone(), problem: format!("smpl_scaling must be positive, got {scaling}") });
    }
    build(&file, &poses, &trans, AIST_FPS, 1.0 / scaling, |q, root| (q, root))
}

struct Npz {
    path: PathBuf,
    tensors: NpzTensors,
    layout: &'static str,
}

impl Npz {
    fn open(path: &Path, layout: &'static str) -> Result<Self, NpzError> {
        let tensors = NpzTensors::new(path).map_err(|e| NpzError::Read { path: path.into(), message: e.to_string() })?;
        Ok(Self { path: path.into(), tensors, layout })
    }

    fn get(&self, name: &'static str) -> Result<Tensor, NpzError> {
        let read = |e: candle_core::Error| NpzError::Read { path: self.path.clone(), message: format!("{name}: {e}") };
        let t = self.tensors.get(name).map_err(read)?;
        let t = t.ok_or(NpzError::Missing { path: self.path.clone(), name, layout: self.layout })?;
        t.to_dtype(DType::F32).map_err(read)
    }

    /// A 2-D array whose second dimension is one of `widths`, as rows.
    fn matrix(&self, name: &'static str, widths: &[usize], expected: &'static str) -> Result<Vec<Vec<f32>>, NpzError> {
        let t = self.get(name)?;
        let shape = t.dims().to_vec();
        if shape.len() != 2 || !widths.contains(&shape[1]) || shape[0] == 0 {
            return Err(NpzError::Shape { path: self.path.clone(), name, shape, expected });
        }
        let rows: Vec<Vec<f32>> = t.to_vec2().map_err(|e| NpzError::Read { path: self.path.clone(), message: format!("{name}: {e}") })?;
        if let Some(frame) = rows.iter().position(|r| r.iter().any(|v| !v.is_finite())) {
            return Err(NpzError::NonFinite { path: self.path.clone(), name, frame });
        }
        Ok(rows)
    }

    fn scalar(&self, name: &'static str) -> Result<f32, NpzError> {
        let t = self.get(name)?;
        let values: Vec<f32> = t
            .flatten_all()
            .and_then(|t| t.to_vec1())
            .map_err(|e| NpzError::Read { path: self.path.clone(), message: format!("{name}: {e}") })?;
        match values.as_slice() {
            [v] if v.is_finite() => Ok(*v),
            _ => Err(NpzError::Shape { path: self.path.clone(), name, shape: t.dims().to_vec(), expected: "one finite number" }),
        }
    }
}

/// Turns axis-angle rows and translations into a [`Motion`]; `world` maps (root rotation, pelvis).
fn build(
    file: &Npz,
    poses: &[Vec<f32>],
    trans: &[Vec<f32>],
    fps: f32,
    trans_scale: f32,
    world: impl Fn(Quat, Vec3) -> (Quat, Vec3),
) -> Result<Motion, NpzError> {
    if poses.len() != trans.len() {
        let problem = format!("{} pose frames but {} translations", poses.len(), trans.len());
        return Err(NpzError::Bad { path: file.path.clone(), problem });
    }
    if !(fps.is_finite() && fps > 0.0) {
        return Err(NpzError::Bad { path: file.path.clone(), problem: format!("frame rate must be positive, got {fps}") });
    }
    let pelvis = REST_JOINTS[0];
    let mut motion = Motion { fps, root: Vec::with_capacity(poses.len()), rotations: Vec::with_capacity(poses.len()) };
    for (pose, t) in poses.iter().zip(trans) {
        // SMPL-H (156) stores 22 body joints then the fingers; SMPL (72) all 24 joints.
        let body = if pose.len() == 72 { NUM_JOINTS } else { 22 };
        let mut q: [Quat; NUM_JOINTS] = [[0.0, 0.0, 0.0, 1.0]; NUM_JOINTS];
        for (j, q) in q.iter_mut().enumerate().take(body) {
            *q = axis_angle_to_quat([pose[3 * j], pose[3 * j + 1], pose[3 * j + 2]]);
        }
        let root = [pelvis[0] + t[0] * trans_scale, pelvis[1] + t[1] * trans_scale, pelvis[2] + t[2] * trans_scale];
        let (q0, root) = world(q[0], root);
        q[0] = q0;
        motion.rotations.push(q);
        motion.root.push(root);
    }
    Ok(motion)
}
