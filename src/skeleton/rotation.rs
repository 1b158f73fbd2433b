//! Rotation conversions on plain `f32` arrays: axis-angle, quaternion `(x, y, z, w)`, 3x3
//! matrix (row-major, acting on column vectors), 6D (the first two matrix columns,
//! Gram-Schmidt back; Zhou et al. 2019, <https://arxiv.org/abs/1812.07035>), and slerp.

/// A 3-vector.
pub type Vec3 = [f32; 3];
/// A unit quaternion `(x, y, z, w)`.
pub type Quat = [f32; 4];
/// A 3x3 rotation matrix, `m[row][col]`.
pub type Mat3 = [[f32; 3]; 3];

/// The identity quaternion.
pub const QUAT_IDENTITY: Quat = [0.0, 0.0, 0.0, 1.0];
/// The identity matrix.
pub const MAT_IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

pub fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
pub fn scale(a: Vec3, s: f32) -> Vec3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
pub fn dot(a: Vec3, b: Vec3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
pub fn norm(a: Vec3) -> f32 {
    dot(a, a).sqrt()
}
/// `a / |a|`; returns `a` unchanged when it is (near) zero.
pub fn normalize(a: Vec3) -> Vec3 {
    let n = norm(a);
    if n > 1e-12 {
        scale(a, 1.0 / n)
    } else {
        a
    }
}

/// Hamilton product `a * b` (apply `b` first, then `a`).
pub fn quat_mul(a: Quat, b: Quat) -> Quat {
    let [ax, ay, az, aw] = a;
    let [bx, by, bz, bw] = b;
    [
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ]
}
/// Conjugate (the inverse of a unit quaternion).
pub fn quat_conj(q: Quat) -> Quat {
    [-q[0], -q[1], -q[2], q[3]]
}
pub fn quat_normalize(q: Quat) -> Quat {
    let n = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).sqrt();
    if n > 1e-12 {
        q.map(|c| c / n)
    } else {
        QUAT_IDENTITY
    }
}
/// Rotate a vector by a unit quaternion.
pub fn quat_rotate(q: Quat, v: Vec3) -> Vec3 {
    let u = [q[0], q[1], q[2]];
    let t = scale(cross(u, v), 2.0);
    add(add(v, scale(t, q[3])), cross(u, t))
}

/// Axis-angle (axis times angle in radians) to quaternion.
pub fn axis_angle_to_quat(aa: Vec3) -> Quat {
    let angle = norm(aa);
    if angle < 1e-8 {
        return quat_normalize([aa[0] * 0.5, aa[1] * 0.5, aa[2] * 0.5, 1.0]);
    }
    let s = (angle * 0.5).sin() / angle;
    [aa[0] * s, aa[1] * s, aa[2] * s, (angle * 0.5).cos()]
}
/// Quaternion to axis-angle, angle in `[0, pi]`.
pub fn quat_to_axis_angle(q: Quat) -> Vec3 {
    let q = if q[3] < 0.0 { q.map(|c| -c) } else { q };
    let s = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).sqrt();
    if s < 1e-8 {
        return [q[0] * 2.0, q[1] * 2.0, q[2] * 2.0];
    }
    let angle = 2.0 * s.atan2(q[3]);
    scale([q[0], q[1], q[2]], angle / s)
}
/// Axis-angle to matrix.
pub fn axis_angle_to_mat(aa: Vec3) -> Mat3 {
    quat_to_mat(axis_angle_to_quat(aa))
}
/// Matrix to axis-angle.
pub fn mat_to_axis_angle(m: &Mat3) -> Vec3 {
    quat_to_axis_angle(mat_to_quat(m))
}

/// Unit quaternion to rotation matrix.
pub fn quat_to_mat(q: Quat) -> Mat3 {
    let [x, y, z, w] = quat_normalize(q);
    [
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w), 2.0 * (x * z + y * w)],
        [2.0 * (x * y + z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w)],
        [2.0 * (x * z - y * w), 2.0 * (y * z + x * w), 1.0 - 2.0 * (x * x + y * y)],
    ]
}
/// Rotation matrix to unit quaternion (Shepperd's method), `w >= 0`.
pub fn mat_to_quat(m: &Mat3) -> Quat {
    let tr = m[0][0] + m[1][1] + m[2][2];
    let q = if tr > 0.0 {
        let s = (tr + 1.0).sqrt() * 2.0;
        [(m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s, 0.25 * s]
    } else if m[0][0] > m[1][1] && m[0][0] > m[2][2] {
        let s = (1.0 + m[0][0] - m[1][1] - m[2][2]).sqrt() * 2.0;
        [0.25 * s, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s, (m[2][1] - m[1][2]) / s]
    } else if m[1][1] > m[2][2] {
        let s = (1.0 + m[1][1] - m[0][0] - m[2][2]).sqrt() * 2.0;
        [(m[0][1] + m[1][0]) / s, 0.25 * s, (m[1][2] + m[2][1]) / s, (m[0][2] - m[2][0]) / s]
    } else {
        let s = (1.0 + m[2][2] - m[0][0] - m[1][1]).sqrt() * 2.0;
        [(m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, 0.25 * s, (m[1][0] - m[0][1]) / s]
    };
    let q = quat_normalize(q);
    if q[3] < 0.0 {
        q.map(|c| -c)
    } else {
        q
    }
}

/// Matrix to 6D: the first two columns, `[m00, m10, m20, m01, m11, m21]`.
pub fn mat_to_6d(m: &Mat3) -> [f32; 6] {
    [m[0][0], m[1][0], m[2][0], m[0][1], m[1][1], m[2][1]]
}
/// 6D to matrix by Gram-Schmidt (any 6 numbers with independent halves give a rotation).
pub fn sixd_to_mat(d: &[f32; 6]) -> Mat3 {
    let b1 = normalize([d[0], d[1], d[2]]);
    let a2 = [d[3], d[4], d[5]];
    let b2 = normalize(sub(a2, scale(b1, dot(b1, a2))));
    let b3 = cross(b1, b2);
    [[b1[0], b2[0], b3[0]], [b1[1], b2[1], b3[1]], [b1[2], b2[2], b3[2]]]
}
pub fn quat_to_6d(q: Quat) -> [f32; 6] {
    mat_to_6d(&quat_to_mat(q))
}
pub fn sixd_to_quat(d: &[f32; 6]) -> Quat {
    mat_to_quat(&sixd_to_mat(d))
}

/// Matrix product `a * b`.
pub fn mat_mul(a: &Mat3, b: &Mat3) -> Mat3 {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}
/// Matrix times column vector.
pub fn mat_vec(m: &Mat3, v: Vec3) -> Vec3 {
    std::array::from_fn(|i| dot(m[i], v))
}
pub fn mat_transpose(m: &Mat3) -> Mat3 {
    std::array::from_fn(|i| std::array::from_fn(|j| m[j][i]))
}

/// Spherical linear interpolation along the shorter arc, `t` in `[0, 1]`.
pub fn slerp(a: Quat, b: Quat, t: f32) -> Quat {
    let mut d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
    let b = if d < 0.0 {
        d = -d;
        b.map(|c| -c)
    } else {
        b
    };
    if d > 0.9995 {
        return quat_normalize(std::array::from_fn(|i| a[i] + t * (b[i] - a[i])));
    }
    let theta = d.clamp(-1.0, 1.0).acos();
    let s = theta.sin();
    let wa = ((1.0 - t) * theta).sin() / s;
    let wb = (t * theta).sin() / s;
    std::array::from_fn(|i| wa * a[i] + wb * b[i])
}

/// Angle in radians between two unit quaternions (as rotations).
pub fn quat_angle(a: Quat, b: Quat) -> f32 {
    let d = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]).abs().min(1.0);
    2.0 * d.acos()
}

/// The shortest rotation taking direction `from` to direction `to`.
pub fn quat_between(from: Vec3, to: Vec3) -> Quat {
    let (f, t) = (normalize(from), normalize(to));
    let d = dot(f, t);
    if d < -0.999_999 {
        // Opposite: rotate by pi about any axis perpendicular to `f`.
        let axis = if f[0].abs() < 0.9 { cross(f, [1.0, 0.0, 0.0]) } else { cross(f, [0.0, 1.0, 0.0]) };
        let a = normalize(axis);
        return [a[0], a[1], a[2], 0.0];
    }
    let c = cross(f, t);
    quat_normalize([c[0], c[1], c[2], 1.0 + d])
}

/// The rotation taking the frame (primary `p_from`, secondary `s_from`) onto (`p_to`, `s_to`):
/// primaries align exactly, secondaries as well as they can.
pub fn quat_from_frames(p_from: Vec3, s_from: Vec3, p_to: Vec3, s_to: Vec3) -> Quat {
    let frame = |p: Vec3, s: Vec3| -> Mat3 {
        let a = normalize(p);
        let b = normalize(sub(s, scale(a, dot(a, s))));
        let c = cross(a, b);
        [[a[0], b[0], c[0]], [a[1], b[1], c[1]], [a[2], b[2], c[2]]]
    };
    let m = mat_mul(&frame(p_to, s_to), &mat_transpose(&frame(p_from, s_from)));
    mat_to_quat(&m)
}

/// BVH's ZXY Euler angles in degrees, `[z, x, y]` with `R = Rz(z) * Rx(x) * Ry(y)`; at gimbal
/// lock (x = ±90°) the whole turn about the vertical goes into z.
pub fn quat_to_zxy_degrees(q: Quat) -> [f32; 3] {
    let m = quat_to_mat(q);
    let sx = m[2][1].clamp(-1.0, 1.0);
    let x = sx.asin();
    let (z, y) = if sx.abs() < 0.999_999 { ((-m[0][1]).atan2(m[1][1]), (-m[2][0]).atan2(m[2][2])) } else { (m[1][0].atan2(m[0][0]), 0.0) };
    [z.to_degrees(), x.to_degrees(), y.to_degrees()]
}
