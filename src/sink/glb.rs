//! The glTF binary container (GLB): a 12-byte header, a JSON chunk and an optional BIN chunk,
//! each padded to 4 bytes (JSON with spaces, BIN with zeros). Used to write `.vrma` and to read
//! a user's `.vrm`.

use serde_json::Value;

/// `glTF` in little-endian.
pub const MAGIC: u32 = 0x4654_6C67;
/// Chunk type `JSON`.
pub const CHUNK_JSON: u32 = 0x4E4F_534A;
/// Chunk type `BIN\0`.
pub const CHUNK_BIN: u32 = 0x004E_4942;

fn pad_to_4(bytes: &mut Vec<u8>, fill: u8) {
    while !bytes.len().is_multiple_of(4) {
        bytes.push(fill);
    }
}

/// Encode a GLB from its JSON document and binary buffer.
pub fn encode(json: &Value, bin: &[u8]) -> Result<Vec<u8>, String> {
    let mut json_bytes = serde_json::to_vec(json).map_err(|e| e.to_string())?;
    pad_to_4(&mut json_bytes, b' ');
    let mut bin_bytes = bin.to_vec();
    pad_to_4(&mut bin_bytes, 0);
    let has_bin = !bin_bytes.is_empty();
    let total = 12 + 8 + json_bytes.len() + if has_bin { 8 + bin_bytes.len() } else { 0 };
    let total32 = u32::try_from(total).map_err(|_| format!("GLB too large ({total} bytes)"))?;
    let mut out = Vec::with_capacity(total);
    for v in [MAGIC, 2, total32, json_bytes.len() as u32, CHUNK_JSON] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&json_bytes);
    if has_bin {
        out.extend_from_slice(&(bin_bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&CHUNK_BIN.to_le_bytes());
        out.extend_from_slice(&bin_bytes);
    }
    Ok(out)
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, String> {
    bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes).ok_or_else(|| format!("truncated at byte {at}"))
}

/// A decoded GLB: the JSON document and the BIN chunk (empty when absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Glb {
    pub json: Value,
    pub bin: Vec<u8>,
}

/// Decode a GLB, checking the magic, version 2, the declared length and the chunk types.
pub fn decode(bytes: &[u8]) -> Result<Glb, String> {
    if u32_at(bytes, 0)? != MAGIC {
        return Err("not a glTF binary (bad magic)".into());
    }
    let version = u32_at(bytes, 4)?;
    if version != 2 {
        return Err(format!("glTF binary version {version}, expected 2"));
    }
    let length = u32_at(bytes, 8)? as usize;
    if length != bytes.len() {
        return Err(format!("header says {length} bytes, the file has {}", bytes.len()));
    }
    let json_len = u32_at(bytes, 12)? as usize;
    if u32_at(bytes, 16)? != CHUNK_JSON {
        return Err("first chunk is not JSON".into());
    }
    let json_bytes = bytes.get(20..20 + json_len).ok_or("truncated JSON chunk")?;
    let json: Value = serde_json::from_slice(json_bytes).map_err(|e| format!("JSON chunk: {e}"))?;
    let at = 20 + json_len;
    let bin = if at < bytes.len() {
        let bin_len = u32_at(bytes, at)? as usize;
        if u32_at(bytes, at + 4)? != CHUNK_BIN {
            return Err("second chunk is not BIN".into());
        }
        bytes.get(at + 8..at + 8 + bin_len).ok_or("truncated BIN chunk")?.to_vec()
    } else {
        Vec::new()
    };
    Ok(Glb { json, bin })
}
