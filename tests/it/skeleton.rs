//! Skeleton tests: the rest table through FK, rotation round trips, FK,
//! COCO placement and pinhole projection.

use mocapd::data::camera::PinholeCamera;
use mocapd::skeleton::coco::{coco_from_pose, NUM_COCO};
use mocapd::skeleton::rotation::*;
use mocapd::skeleton::smpl::{self, NUM_JOINTS, REST_JOINTS};
use mocapd::skeleton::smpl_fk;
use rand::{Rng, SeedableRng};

fn random_quat(rng: &mut impl Rng) -> Quat {
    loop {
        let q: Quat = std::array::from_fn(|_| rng.random_range(-1.0f32..1.0));
        let n = q.iter().map(|c| c * c).sum::<f32>().sqrt();
        if n > 0.1 && n <= 1.0 {
            return quat_normalize(q);
        }
    }
}

fn same_rotation(a: Quat, b: Quat) -> f32 {
    let d: f32 = a.iter().zip(b.iter()).map(|(x, y)| x * y).sum();
    1.0 - d.abs()
}

fn mat_close(a: &Mat3, b: &Mat3) -> f32 {
    (0..3).flat_map(|i| (0..3).map(move |j| (a[i][j] - b[i][j]).abs())).fold(0.0, f32::max)
}

#[test]
fn rest_fk_reproduces_table() {
    let pos = smpl_fk(&[QUAT_IDENTITY; NUM_JOINTS], REST_JOINTS[0]);
    for j in 0..NUM_JOINTS {
        for k in 0..3 {
            assert!((pos[j][k] - REST_JOINTS[j][k]).abs() < 1e-6, "joint {j}");
        }
    }
    for j in 1..NUM_JOINTS {
        assert!(smpl::PARENTS[j] < j as i32);
    }
    // Convention: left is +X, head above pelvis, toes in front of ankles.
    assert!(REST_JOINTS[16][0] > 0.0 && REST_JOINTS[17][0] < 0.0);
    assert!(REST_JOINTS[15][1] > REST_JOINTS[0][1]);
    assert!(REST_JOINTS[10][2] > REST_JOINTS[7][2]);
}

#[test]
fn rotation_round_trips() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..2000 {
        let q = random_quat(&mut rng);
        let m = quat_to_mat(q);
        assert!(same_rotation(mat_to_quat(&m), q) < 1e-5);
        assert!(mat_close(&sixd_to_mat(&mat_to_6d(&m)), &m) < 1e-5);
        assert!(same_rotation(sixd_to_quat(&quat_to_6d(q)), q) < 1e-5);
        let aa = quat_to_axis_angle(q);
        assert!(same_rotation(axis_angle_to_quat(aa), q) < 1e-5);
        assert!(mat_close(&axis_angle_to_mat(aa), &m) < 1e-5);
        let v = [0.3, -1.2, 0.7];
        let a = quat_rotate(q, v);
        let b = mat_vec(&m, v);
        assert!((0..3).all(|k| (a[k] - b[k]).abs() < 1e-5));
    }
}

#[test]
fn slerp_endpoints_and_midpoint() {
    let a = axis_angle_to_quat([0.0, 0.0, 0.0]);
    let b = axis_angle_to_quat([0.0, 1.0, 0.0]);
    assert!(same_rotation(slerp(a, b, 0.0), a) < 1e-6);
    assert!(same_rotation(slerp(a, b, 1.0), b) < 1e-6);
    let mid = slerp(a, b, 0.5);
    assert!(same_rotation(mid, axis_angle_to_quat([0.0, 0.5, 0.0])) < 1e-6);
    // Shorter arc even when b is given with the opposite sign.
    let mid2 = slerp(a, b.map(|c| -c), 0.5);
    assert!(same_rotation(mid2, mid) < 1e-6);
}

#[test]
fn coco_hips_lower_and_wider_face_in_front() {
    let root = REST_JOINTS[0];
    let coco = coco_from_pose(&[QUAT_IDENTITY; NUM_JOINTS], root);
    assert_eq!(coco.len(), NUM_COCO);
    assert!(coco[11][0] > REST_JOINTS[1][0] && coco[11][1] < REST_JOINTS[1][1]);
    assert!(coco[12][0] < REST_JOINTS[2][0] && coco[12][1] < REST_JOINTS[2][1]);
    assert!(coco[0][2] > REST_JOINTS[15][2] + 0.05, "nose in front of the head (+Z)");
    assert!(coco[1][0] > 0.0 && coco[2][0] < 0.0, "left eye on +X");
    // Turn the body 180 degrees about Y: the nose goes behind.
    let mut local = [QUAT_IDENTITY; NUM_JOINTS];
    local[0] = axis_angle_to_quat([0.0, std::f32::consts::PI, 0.0]);
    let turned = coco_from_pose(&local, root);
    assert!(turned[0][2] < root[2] - 0.05);
    assert!(turned[11][0] < root[0]);
}

#[test]
fn pinhole_projects_known_point() {
    // Camera 3 m in front of the origin (on +Z), looking back at it, Y up.
    let cam = PinholeCamera::look_at(1000.0, 1000.0, 640.0, 360.0, [0.0, 1.0, 3.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]);
    let c = cam.project([0.0, 1.0, 0.0]).expect("in front");
    assert!((c[0] - 640.0).abs() < 1e-3 && (c[1] - 360.0).abs() < 1e-3);
    // The subject faces +Z (the camera), so the subject's left (+X) is on image right.
    let p = cam.project([0.3, 1.6, 0.0]).expect("in front");
    assert!((p[0] - (640.0 + 100.0)).abs() < 1e-2, "{p:?}");
    assert!((p[1] - (360.0 - 200.0)).abs() < 1e-2, "{p:?}");
    assert!(cam.project([0.0, 1.0, 4.0]).is_none(), "behind the camera");
}

#[test]
fn virtual_cameras_and_2d_noise() {
    use mocapd::data::synth2d::*;
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let root = [0.0, 0.95, 0.0];
    let coco = coco_from_pose(&[QUAT_IDENTITY; NUM_JOINTS], root);
    let (mut sq, mut n, mut dropped) = (0.0f64, 0usize, 0usize);
    for _ in 0..200 {
        let cam = random_camera(&mut rng, root);
        // The (jittered) target is near the image centre; the whole body is in front.
        let c = cam.project(root).expect("in front");
        assert!((c[0] - IMAGE_W / 2.0).abs() < 200.0 && (c[1] - IMAGE_H / 2.0).abs() < 200.0);
        let clean = keypoints_2d(&cam, &coco, &NoiseModel::none(), &mut rng);
        for (k, p) in clean.iter().zip(coco.iter()) {
            let e = cam.project(*p).expect("in front");
            assert_eq!([k[0], k[1], k[2]], [e[0], e[1], 1.0]);
        }
        let noise = NoiseModel { sigma: 0.01, dropout: 0.1, swap: 0.0, outlier: 0.0 };
        let noisy = keypoints_2d(&cam, &coco, &noise, &mut rng);
        let height = clean.iter().map(|k| k[1]).fold(f32::MIN, f32::max) - clean.iter().map(|k| k[1]).fold(f32::MAX, f32::min);
        for (a, b) in noisy.iter().zip(clean.iter()) {
            if a[2] == 0.0 {
                dropped += 1;
            } else {
                sq += (((a[0] - b[0]) / height).powi(2) + ((a[1] - b[1]) / height).powi(2)) as f64;
                n += 2;
            }
        }
    }
    let sigma = (sq / n as f64).sqrt();
    assert!((sigma - 0.01).abs() < 0.001, "sigma {sigma}");
    let rate = dropped as f32 / (200.0 * 17.0);
    assert!((rate - 0.1).abs() < 0.03, "dropout {rate}");
}
