//! Pinhole cameras: world (Y up) to pixel projection, OpenCV camera axes (x right, y down,
//! z forward), no lens distortion.

use crate::skeleton::rotation::{cross, mat_vec, normalize, sub, Mat3, Vec3};

/// A pinhole camera. `rotation` and `translation` map world points to camera coordinates:
/// `p_cam = rotation * p_world + translation`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PinholeCamera {
    pub fx: f32,
    pub fy: f32,
    pub cx: f32,
    pub cy: f32,
    pub rotation: Mat3,
    pub translation: Vec3,
}

impl PinholeCamera {
    /// A camera at `eye` looking at `target`, with world up `up` appearing upwards in the image.
    pub fn look_at(fx: f32, fy: f32, cx: f32, cy: f32, eye: Vec3, target: Vec3, up: Vec3) -> Self {
        let z = normalize(sub(target, eye));
        let x = normalize(cross(z, up)); // image right
        let y = cross(z, x); // image down
        let rotation = [x, y, z];
        let t = mat_vec(&rotation, eye);
        PinholeCamera { fx, fy, cx, cy, rotation, translation: [-t[0], -t[1], -t[2]] }
    }

    /// World point to camera coordinates.
    pub fn to_camera(&self, p: Vec3) -> Vec3 {
        let c = mat_vec(&self.rotation, p);
        [c[0] + self.translation[0], c[1] + self.translation[1], c[2] + self.translation[2]]
    }

    /// World point to pixel `(u, v)`; `None` when the point is not in front of the camera.
    pub fn project(&self, p: Vec3) -> Option<[f32; 2]> {
        let c = self.to_camera(p);
        if c[2] <= 1e-6 {
            return None;
        }
        Some([self.fx * c[0] / c[2] + self.cx, self.fy * c[1] / c[2] + self.cy])
    }
}
