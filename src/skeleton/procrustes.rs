//! Similarity Procrustes alignment of two point sets (rotation, uniform scale, translation;
//! Horn's closed-form quaternion method): what PA-MPJPE (`lift::metrics`) and the data set's
//! coverage figure (`data::coverage`) align poses with.
use crate::skeleton::rotation::{add, dot, norm, quat_rotate, scale, sub, Quat, Vec3};

/// Similarity transform (s, R, t) minimising Σ|s·R·p + t − g|².
pub fn procrustes(p: &[Vec3], g: &[Vec3]) -> (f32, Quat, Vec3) {
    let n = p.len().max(1) as f32;
    let cp = scale(p.iter().fold([0.0; 3], |a, b| add(a, *b)), 1.0 / n);
    let cg = scale(g.iter().fold([0.0; 3], |a, b| add(a, *b)), 1.0 / n);
    let mut m = [[0.0f64; 3]; 3]; // m[a][b] = Σ p_a g_b
    for (a, b) in p.iter().zip(g) {
        let (a, b) = (sub(*a, cp), sub(*b, cg));
        for i in 0..3 {
            for k in 0..3 {
                m[i][k] += (a[i] * b[k]) as f64;
            }
        }
    }
    let [[sxx, sxy, sxz], [syx, syy, syz], [szx, szy, szz]] = m;
    let nm = [
        [sxx + syy + szz, syz - szy, szx - sxz, sxy - syx],
        [syz - szy, sxx - syy - szz, sxy + syx, szx + sxz],
        [szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy],
        [sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz],
    ];
    let v = top_eigenvector(nm); // (w, x, y, z)
    let q: Quat = [v[1] as f32, v[2] as f32, v[3] as f32, v[0] as f32];
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (a, b) in p.iter().zip(g) {
        let ra = quat_rotate(q, sub(*a, cp));
        num += dot(ra, sub(*b, cg)) as f64;
        den += dot(ra, ra) as f64;
    }
    let s = if den > 1e-12 { (num / den) as f32 } else { 1.0 };
    let t = sub(cg, scale(quat_rotate(q, cp), s));
    (s, q, t)
}

/// Eigenvector of the largest eigenvalue of a symmetric 4×4 matrix (cyclic Jacobi).
#[allow(clippy::needless_range_loop)] // the rotations read clearest as index loops
fn top_eigenvector(mut a: [[f64; 4]; 4]) -> [f64; 4] {
    let mut v = [[0.0f64; 4]; 4];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _ in 0..50 {
        let off: f64 = (0..4).flat_map(|i| (0..4).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i][j] * a[i][j]).sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..3 {
            for q in p + 1..4 {
                if a[p][q].abs() < 1e-30 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.iter_mut() {
                    let (akp, akq) = (row[p], row[q]);
                    row[p] = c * akp - s * akq;
                    row[q] = s * akp + c * akq;
                }
                for k in 0..4 {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let k = (0..4).max_by(|&i, &j| a[i][i].total_cmp(&a[j][j])).unwrap_or(0);
    let e = [v[0][k], v[1][k], v[2][k], v[3][k]];
    let n = e.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-30);
    e.map(|x| x / n)
}

/// `p` moved by the similarity transform that best aligns it onto `g`.
pub fn align(p: &[Vec3], g: &[Vec3]) -> Vec<Vec3> {
    let (s, q, t) = procrustes(p, g);
    p.iter().map(|&x| add(scale(quat_rotate(q, x), s), t)).collect()
}

/// Mean distance between `g` and `p` aligned onto it ([`align`]), in the points' units.
pub fn aligned_distance(p: &[Vec3], g: &[Vec3]) -> f32 {
    let a = align(p, g);
    let n = a.len().min(g.len()).max(1);
    a.iter().zip(g).map(|(x, y)| norm(sub(*x, *y)) as f64).sum::<f64>() as f32 / n as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::rotation::axis_angle_to_quat;

    #[test]
    fn aligns_a_rotated_scaled_shifted_copy() {
        let p: Vec<Vec3> = (0..24).map(|j| [j as f32 * 0.1, (j % 5) as f32 * 0.2, -(j as f32) * 0.03 + (j % 3) as f32 * 0.1]).collect();
        let q = axis_angle_to_quat([0.3, 1.1, -0.4]);
        let g: Vec<Vec3> = p.iter().map(|&x| add(scale(quat_rotate(q, x), 1.3), [0.5, -2.0, 7.0])).collect();
        assert!(aligned_distance(&p, &g) < 1e-4);
        let (s, _, _) = procrustes(&p, &g);
        assert!((s - 1.3).abs() < 1e-4);
        let mut h = g.clone();
        h[3][1] += 0.5;
        assert!(aligned_distance(&p, &h) > 1e-3);
    }
}
