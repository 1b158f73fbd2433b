//! AMASS and AIST++ SMPL parameter files: axes, units, joint layout, and clear errors.

use crate::support::error_text;
use candle_core::{Device, Tensor};
use mocapd::data::smpl_npz::{read_aist, read_amass, NpzError};
use mocapd::skeleton::rotation::{axis_angle_to_quat, quat_angle};
use mocapd::skeleton::smpl::REST_JOINTS;
use std::f64::consts::FRAC_PI_2;
use std::path::Path;

fn write(path: &Path, arrays: &[(&str, Tensor)]) {
    let refs: Vec<(&str, &Tensor)> = arrays.iter().map(|(n, t)| (*n, t)).collect();
    Tensor::write_npz(&refs, path).unwrap();
}

fn f64s(v: Vec<f64>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

/// Two AMASS frames of a person standing upright in AMASS's Z-up world, with a bent left knee
/// and some finger values (which must be ignored).
fn amass_poses() -> Vec<f64> {
    let mut p = vec![0.0; 2 * 156];
    for f in 0..2 {
        let row = &mut p[f * 156..(f + 1) * 156];
        row[0] = FRAC_PI_2; // stand up in a Z-up world
        row[3 * 4] = 0.5 + 0.1 * f as f64; // left knee
        for v in &mut row[66..] {
            *v = 0.3;
        }
    }
    p
}

#[test]
fn amass_is_turned_to_y_up_with_the_pelvis_at_j0_plus_trans() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("walk_poses.npz");
    write(
        &path,
        &[
            ("poses", f64s(amass_poses(), &[2, 156])),
            ("trans", f64s(vec![1.0, 2.0, 0.9, 1.1, 2.0, 0.9], &[2, 3])),
            ("mocap_framerate", f64s(vec![120.0], &[])),
        ],
    );
    let m = read_amass(&path).unwrap();
    assert_eq!(m.fps, 120.0);
    assert_eq!(m.len(), 2);
    // Standing upright in Z up is the rest orientation in Y up.
    assert!(quat_angle(m.rotations[0][0], [0.0, 0.0, 0.0, 1.0]) < 1e-3, "root {:?}", m.rotations[0][0]);
    let knee = axis_angle_to_quat([0.6, 0.0, 0.0]);
    assert!(quat_angle(m.rotations[1][4], knee) < 1e-3);
    assert_eq!(m.rotations[0][22], [0.0, 0.0, 0.0, 1.0], "SMPL-H fingers must not leak into SMPL hands");
    // Pelvis = J0 + trans in Z up, then (x, y, z) -> (x, z, -y).
    let j0 = REST_JOINTS[0];
    let expect = [j0[0] + 1.0, j0[2] + 0.9, -(j0[1] + 2.0)];
    for k in 0..3 {
        assert!((m.root[0][k] - expect[k]).abs() < 1e-5, "root {:?} vs {expect:?}", m.root[0]);
    }
    let joints = m.positions(0).unwrap();
    assert!(joints[15][1] > joints[0][1] + 0.3, "head above the pelvis in Y up");
}

#[test]
fn aist_translation_is_scaled_to_metres() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gBR_sBM_cAll_d04_mBR0_ch01.npz");
    let mut poses = vec![0.0; 72 * 3];
    poses[72 + 3 * 23 + 1] = 0.4; // right hand joint exists in SMPL
    write(
        &path,
        &[
            ("smpl_poses", f64s(poses, &[3, 72])),
            ("smpl_trans", f64s(vec![100.0, 200.0, 300.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[3, 3])),
            ("smpl_scaling", f64s(vec![100.0], &[1])),
        ],
    );
    let m = read_aist(&path).unwrap();
    assert_eq!((m.fps, m.len()), (60.0, 3));
    let j0 = REST_JOINTS[0];
    assert!((m.root[0][0] - (j0[0] + 1.0)).abs() < 1e-5 && (m.root[0][2] - (j0[2] + 3.0)).abs() < 1e-5);
    assert!(quat_angle(m.rotations[1][23], axis_angle_to_quat([0.0, 0.4, 0.0])) < 1e-3);
}

fn err(path: &Path, amass: bool) -> String {
    let r: Result<_, NpzError> = if amass { read_amass(path) } else { read_aist(path) };
    error_text(r, "bad file accepted")
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("junk.npz"), b"not a zip").unwrap();
    assert!(err(&p("junk.npz"), true).contains("not a readable .npz file"));
    write(&p("nopose.npz"), &[("trans", f64s(vec![0.0; 3], &[1, 3]))]);
    assert!(err(&p("nopose.npz"), true).contains("no array `poses`; is this an AMASS file?"));
    write(
        &p("narrow.npz"),
        &[("poses", f64s(vec![0.0; 70], &[1, 70])), ("trans", f64s(vec![0.0; 3], &[1, 3])), ("mocap_framerate", f64s(vec![30.0], &[]))],
    );
    assert!(err(&p("narrow.npz"), true).contains("`poses` has shape [1, 70], expected (N, 156) or (N, 72)"));
    let mut nan = vec![0.0; 144];
    nan[72 + 5] = f64::NAN;
    write(
        &p("nan.npz"),
        &[("smpl_poses", f64s(nan, &[2, 72])), ("smpl_trans", f64s(vec![0.0; 6], &[2, 3])), ("smpl_scaling", f64s(vec![1.0], &[1]))],
    );
    assert!(err(&p("nan.npz"), false).contains("`smpl_poses` holds a NaN or infinite value (frame 1)"));
    write(
        &p("short.npz"),
        &[
            ("smpl_poses", f64s(vec![0.0; 144], &[2, 72])),
            ("smpl_trans", f64s(vec![0.0; 3], &[1, 3])),
            ("smpl_scaling", f64s(vec![1.0], &[1])),
        ],
    );
    assert!(err(&p("short.npz"), false).contains("2 pose frames but 1 translations"));
}

#[test]
fn amass_files_load_as_training_takes_at_30_fps_on_the_floor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("take.npz");
    let frames = 121;
    let poses: Vec<f64> = (0..frames).flat_map(|_| amass_poses()[..156].to_vec()).collect();
    let trans: Vec<f64> = (0..frames).flat_map(|f| [f as f64 * 0.01, 0.0, 0.95]).collect();
    write(
        &path,
        &[("poses", f64s(poses, &[frames, 156])), ("trans", f64s(trans, &[frames, 3])), ("mocap_framerate", f64s(vec![120.0], &[]))],
    );
    let (m, rig) = mocapd::data::sources::load_file(&path, None, "amass/take").unwrap();
    assert_eq!((rig, m.fps, m.len()), ("smpl", 30.0, 31));
    let lowest = (0..m.len()).flat_map(|f| m.positions(f).unwrap()).map(|p| p[1]).fold(f32::MAX, f32::min);
    assert!(lowest.abs() < 1e-4, "floor at {lowest}");
}
