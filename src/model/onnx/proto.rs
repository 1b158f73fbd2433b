//! The ONNX protobuf subset the denoiser export needs (ModelProto, GraphProto, NodeProto,
//! AttributeProto, TensorProto, ValueInfoProto/TypeProto, OperatorSetIdProto), written by a tiny
//! hand-rolled protobuf encoder with the field numbers of `onnx.proto` (no protoc, no build step).

/// TensorProto.DataType.
pub const FLOAT: i32 = 1;
pub const INT64: i32 = 7;

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn key(buf: &mut Vec<u8>, field: u32, wire: u32) {
    varint(buf, u64::from(field << 3 | wire));
}

/// int32/int64/enum field (wire type 0; negatives as 10-byte two's complement, as protobuf does).
fn int(buf: &mut Vec<u8>, field: u32, v: i64) {
    key(buf, field, 0);
    varint(buf, v as u64);
}

/// string/bytes/sub-message field (wire type 2).
fn bytes(buf: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(buf, field, 2);
    varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

fn message(buf: &mut Vec<u8>, field: u32, write: impl FnOnce(&mut Vec<u8>)) {
    let mut sub = Vec::new();
    write(&mut sub);
    bytes(buf, field, &sub);
}

/// A tensor dimension: fixed or symbolic (dynamic, e.g. "batch").
#[derive(Debug, Clone)]
pub enum Dim {
    Fixed(i64),
    Named(&'static str),
}

/// ValueInfoProto of a tensor graph input or output.
#[derive(Debug, Clone)]
pub struct ValueInfo {
    pub name: String,
    pub elem_type: i32,
    pub dims: Vec<Dim>,
}

impl ValueInfo {
    fn encode(&self, buf: &mut Vec<u8>) {
        bytes(buf, 1, self.name.as_bytes());
        // TypeProto.tensor_type (1) → {elem_type (1), shape (2) → dim (1) → dim_value (1) | dim_param (2)}
        message(buf, 2, |ty| {
            message(ty, 1, |tt| {
                int(tt, 1, i64::from(self.elem_type));
                message(tt, 2, |sh| {
                    for d in &self.dims {
                        message(sh, 1, |dm| match d {
                            Dim::Fixed(v) => int(dm, 1, *v),
                            Dim::Named(p) => bytes(dm, 2, p.as_bytes()),
                        });
                    }
                });
            });
        });
    }
}

/// An initializer (TensorProto with raw little-endian data).
#[derive(Debug, Clone)]
pub struct Initializer {
    pub name: String,
    pub dims: Vec<i64>,
    pub data_type: i32,
    pub raw: Vec<u8>,
}

impl Initializer {
    pub fn f32(name: String, dims: Vec<i64>, data: &[f32]) -> Self {
        Self { name, dims, data_type: FLOAT, raw: data.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }

    pub fn i64(name: String, data: &[i64]) -> Self {
        Self { name, dims: vec![data.len() as i64], data_type: INT64, raw: data.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }

    fn encode(&self, buf: &mut Vec<u8>) {
        for d in &self.dims {
            int(buf, 1, *d);
        }
        int(buf, 2, i64::from(self.data_type));
        bytes(buf, 8, self.name.as_bytes());
        bytes(buf, 9, &self.raw);
    }
}

/// AttributeProto (only the kinds the export uses).
#[derive(Debug, Clone)]
pub enum Attr {
    Int(&'static str, i64),
    Float(&'static str, f32),
    Ints(&'static str, Vec<i64>),
}

impl Attr {
    fn encode(&self, buf: &mut Vec<u8>) {
        // AttributeType: FLOAT 1, INT 2, INTS 7; fields: name 1, f 2, i 3, ints 8, type 20.
        match self {
            Attr::Float(n, v) => {
                bytes(buf, 1, n.as_bytes());
                key(buf, 2, 5);
                buf.extend_from_slice(&v.to_le_bytes());
                int(buf, 20, 1);
            }
            Attr::Int(n, v) => {
                bytes(buf, 1, n.as_bytes());
                int(buf, 3, *v);
                int(buf, 20, 2);
            }
            Attr::Ints(n, vs) => {
                bytes(buf, 1, n.as_bytes());
                for v in vs {
                    int(buf, 8, *v);
                }
                int(buf, 20, 7);
            }
        }
    }
}

/// NodeProto.
#[derive(Debug, Clone)]
pub struct Node {
    pub op_type: &'static str,
    pub name: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: Vec<Attr>,
}

impl Node {
    fn encode(&self, buf: &mut Vec<u8>) {
        for i in &self.inputs {
            bytes(buf, 1, i.as_bytes());
        }
        for o in &self.outputs {
            bytes(buf, 2, o.as_bytes());
        }
        bytes(buf, 3, self.name.as_bytes());
        bytes(buf, 4, self.op_type.as_bytes());
        for a in &self.attrs {
            message(buf, 5, |b| a.encode(b));
        }
    }
}

/// GraphProto.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub name: String,
    pub nodes: Vec<Node>,
    pub initializers: Vec<Initializer>,
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
}

impl Graph {
    fn encode(&self, buf: &mut Vec<u8>) {
        for n in &self.nodes {
            message(buf, 1, |b| n.encode(b));
        }
        bytes(buf, 2, self.name.as_bytes());
        for t in &self.initializers {
            message(buf, 5, |b| t.encode(b));
        }
        for v in &self.inputs {
            message(buf, 11, |b| v.encode(b));
        }
        for v in &self.outputs {
            message(buf, 12, |b| v.encode(b));
        }
    }
}

/// ModelProto with one opset import of the default domain.
#[derive(Debug, Clone)]
pub struct Model {
    pub ir_version: i64,
    pub opset: i64,
    pub producer: &'static str,
    pub graph: Graph,
}

impl Model {
    /// The serialized model, as `SessionBuilder::commit_from_memory` takes it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        int(&mut buf, 1, self.ir_version);
        bytes(&mut buf, 2, self.producer.as_bytes());
        message(&mut buf, 7, |b| self.graph.encode(b));
        // OperatorSetIdProto: domain 1 (empty = ai.onnx), version 2.
        message(&mut buf, 8, |b| int(b, 2, self.opset));
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_keys() {
        let mut b = Vec::new();
        varint(&mut b, 300);
        assert_eq!(b, [0xac, 0x02]);
        let mut b = Vec::new();
        int(&mut b, 1, -1);
        assert_eq!(b.len(), 11);
        let mut b = Vec::new();
        bytes(&mut b, 2, b"ab");
        assert_eq!(b, [0x12, 2, b'a', b'b']);
    }
}
