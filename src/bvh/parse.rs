//! The BVH text parser behind [`super::Bvh::parse`]: a token stream with line numbers for
//! the hierarchy, then one frame per line.

use super::{Bvh, BvhError, Channel, Joint};
use crate::skeleton::rotation::Vec3;

struct Tokens<'a> {
    toks: Vec<(usize, &'a str)>,
    pos: usize,
    last_line: usize,
}

impl<'a> Tokens<'a> {
    fn peek(&self) -> Option<(usize, &'a str)> {
        self.toks.get(self.pos).copied()
    }
    fn next(&mut self, expected: &str) -> Result<(usize, &'a str), BvhError> {
        let t = self.peek().ok_or_else(|| BvhError::Truncated { line: self.last_line + 1, expected: expected.to_string() })?;
        self.pos += 1;
        Ok(t)
    }
    fn expect(&mut self, word: &str) -> Result<usize, BvhError> {
        let (line, t) = self.next(&format!("`{word}`"))?;
        if t.eq_ignore_ascii_case(word) {
            Ok(line)
        } else {
            Err(BvhError::Unexpected { line, expected: format!("`{word}`"), found: t.to_string() })
        }
    }
    fn number(&mut self, what: &str) -> Result<f64, BvhError> {
        let (line, t) = self.next(what)?;
        parse_number(line, t)
    }
    fn vec3(&mut self) -> Result<Vec3, BvhError> {
        Ok([self.number("an OFFSET value")? as f32, self.number("an OFFSET value")? as f32, self.number("an OFFSET value")? as f32])
    }
    /// The rest of the current line (a joint name may contain spaces), minus a trailing `{`.
    fn name(&mut self, line: usize) -> Result<String, BvhError> {
        let mut parts = Vec::new();
        while let Some((l, t)) = self.peek() {
            if l != line || t == "{" {
                break;
            }
            parts.push(t);
            self.pos += 1;
        }
        if parts.is_empty() {
            return Err(BvhError::Truncated { line, expected: "a joint name".into() });
        }
        Ok(parts.join(" "))
    }
}

fn parse_number(line: usize, t: &str) -> Result<f64, BvhError> {
    let v: f64 = t.parse().map_err(|_| BvhError::BadNumber { line, token: t.to_string() })?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(BvhError::NotFinite { line, token: t.to_string() })
    }
}

/// Parse a whole file.
pub(super) fn parse(text: &str) -> Result<Bvh, BvhError> {
    let lines: Vec<&str> = text.lines().collect();
    let motion_line = lines.iter().position(|l| l.trim().eq_ignore_ascii_case("MOTION"));
    let header_end = motion_line.map_or(lines.len(), |m| m + 1);
    let toks: Vec<(usize, &str)> =
        lines[..header_end].iter().enumerate().flat_map(|(i, l)| l.split_whitespace().map(move |t| (i + 1, t))).collect();
    let mut tk = Tokens { toks, pos: 0, last_line: header_end };
    tk.expect("HIERARCHY")?;
    let mut joints = Vec::new();
    loop {
        let (line, t) = tk.next("`ROOT` or `MOTION`")?;
        match t.to_ascii_uppercase().as_str() {
            "ROOT" => parse_joint(&mut tk, line, None, &mut joints)?,
            "MOTION" => break,
            _ => return Err(BvhError::UnknownKeyword { line, keyword: t.to_string() }),
        }
    }
    if joints.is_empty() {
        return Err(BvhError::NoJoints);
    }
    let mut idx = header_end;
    let declared_f = header_value(&lines, &mut idx, "Frames:")?;
    let frames_line = idx;
    let frame_time = header_value(&lines, &mut idx, "Frame Time:")?;
    if declared_f < 0.0 || declared_f.fract() != 0.0 {
        return Err(BvhError::BadNumber { line: frames_line, token: declared_f.to_string() });
    }
    let declared = declared_f as usize;
    let first = idx;
    let rest = lines.get(first..).unwrap_or(&[]);
    let n_channels: usize = joints.iter().map(|j: &Joint| j.channels.len()).sum();
    // The declared count is untrusted: never reserve more rows than there are lines.
    let mut frames = Vec::with_capacity(declared.min(rest.len()));
    for (i, l) in rest.iter().enumerate() {
        if frames.len() == declared {
            break;
        }
        let line = first + i + 1;
        if l.trim().is_empty() {
            continue;
        }
        let values = l.split_whitespace().map(|t| parse_number(line, t).map(|v| v as f32)).collect::<Result<Vec<f32>, _>>()?;
        if values.len() != n_channels {
            return Err(BvhError::ChannelCount { line, expected: n_channels, found: values.len() });
        }
        frames.push(values);
    }
    if frames.len() < declared {
        return Err(BvhError::MissingFrames { line: lines.len(), declared, found: frames.len() });
    }
    Ok(Bvh { joints, frame_time, frames })
}

/// Read `Key: value` from the next non-blank line at or after `*idx` (0-based); leaves `*idx`
/// at the following line (so `*idx` is then that line's 1-based number).
fn header_value(lines: &[&str], idx: &mut usize, key: &str) -> Result<f64, BvhError> {
    while lines.get(*idx).is_some_and(|l| l.trim().is_empty()) {
        *idx += 1;
    }
    let line = *idx + 1;
    let l = lines.get(*idx).ok_or_else(|| BvhError::Truncated { line, expected: format!("`{key}`") })?;
    *idx += 1;
    let t = l.trim();
    let head = t.get(..key.len()).unwrap_or("");
    if !head.eq_ignore_ascii_case(key) {
        return Err(BvhError::Unexpected { line, expected: format!("`{key}`"), found: t.to_string() });
    }
    parse_number(line, t[key.len()..].trim())
}

fn parse_joint(tk: &mut Tokens, line: usize, parent: Option<usize>, joints: &mut Vec<Joint>) -> Result<(), BvhError> {
    let name = tk.name(line)?;
    let index = joints.len();
    joints.push(Joint { name, parent, offset: [0.0; 3], channels: Vec::new(), end_site: None });
    tk.expect("{")?;
    loop {
        let (line, t) = tk.next("`}`")?;
        match t.to_ascii_uppercase().as_str() {
            "OFFSET" => joints[index].offset = tk.vec3()?,
            "CHANNELS" => {
                let n = tk.number("the channel count")?;
                if n < 0.0 || n.fract() != 0.0 || n > 64.0 {
                    return Err(BvhError::BadNumber { line, token: n.to_string() });
                }
                let mut channels = Vec::with_capacity(n as usize);
                for _ in 0..n as usize {
                    let (l, c) = tk.next("a channel name")?;
                    let ch = Channel::parse(c).ok_or_else(|| BvhError::BadChannel { line: l, name: c.to_string() })?;
                    channels.push(ch);
                }
                joints[index].channels = channels;
            }
            "JOINT" => parse_joint(tk, line, Some(index), joints)?,
            "END" => {
                tk.expect("Site")?;
                tk.expect("{")?;
                tk.expect("OFFSET")?;
                joints[index].end_site = Some(tk.vec3()?);
                tk.expect("}")?;
            }
            "}" => return Ok(()),
            _ => return Err(BvhError::UnknownKeyword { line, keyword: t.to_string() }),
        }
    }
}
