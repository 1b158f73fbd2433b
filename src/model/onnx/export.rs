//! Generates the ONNX graph (opset 17, in memory) of one denoiser forward x̂0 = D(x_t, t, cond)
//! from a loaded candle [`Denoiser`]: the same math as `Denoiser::forward` (sinusoid + MLP
//! timestep embedding per frame, input projection + positional embedding narrowed to S, FiLM
//! blocks V1/V2 with LayerNorm, self-attention, cross-attention to the per-window K/V, MLP,
//! final LayerNorm and output projection), the weights as initializers.
//!
//! Graph inputs (batch B, frames S and pose frames Sp are dynamic): `x_t` [B, S, motion_dim],
//! `t` f32 [B, S] (per-frame timesteps; broadcast a per-clip t first), and per block i the
//! [`PoseCondition`](crate::model::PoseCondition) tensors `k_t.i` [B, H, dh, Sp], `v.i`
//! [B, H, Sp, dh], `film_p.i` [B, 1, 2·pairs·d], and with frame-aligned conditioning `frame`
//! [B, Sp, d] (its first S frames are added at the input). Output: `x0` [B, S, motion_dim].
use candle_core::{DType, Result, Tensor};
use candle_nn::Linear;

use super::proto::{Attr, Dim, Graph, Initializer, Model, Node, ValueInfo, FLOAT};
use crate::model::attention::Norm;
use crate::model::block::Block;
use crate::model::{Activation, Denoiser};

/// Opset of the generated graph (LayerNormalization needs 17).
pub const OPSET: i64 = 17;
/// IR version matching opset 17.
const IR_VERSION: i64 = 8;

/// Names of the graph inputs, in the order the session feeds them.
pub fn input_names(blocks: usize, frame_cond: bool) -> Vec<String> {
    let mut v = vec!["x_t".to_string(), "t".to_string()];
    for i in 0..blocks {
        v.extend([format!("k_t.{i}"), format!("v.{i}"), format!("film_p.{i}")]);
    }
    if frame_cond {
        v.push("frame".into());
    }
    v
}

/// The serialized ONNX model of `model`'s forward pass.
pub fn export(model: &Denoiser) -> Result<Vec<u8>> {
    let cfg = &model.cfg;
    let (d, h, m) = (cfg.d_model, cfg.n_heads, cfg.motion_dim);
    let dh = d / h;
    let mut b = Builder::default();
    let names = input_names(cfg.n_blocks, model.frame.is_some());
    let (bn, s, sp) = (Dim::Named("batch"), Dim::Named("frames"), Dim::Named("pose_frames"));
    let film_w = model.blocks.first().map_or(2 * d, |blk| 2 * blk.pairs * d);
    let mut inputs = vec![
        tensor_info(&names[0], vec![bn.clone(), s.clone(), Dim::Fixed(m as i64)]),
        tensor_info(&names[1], vec![bn.clone(), s.clone()]),
    ];
    for i in 0..cfg.n_blocks {
        let (hh, dd) = (Dim::Fixed(h as i64), Dim::Fixed(dh as i64));
        inputs.push(tensor_info(&names[2 + 3 * i], vec![bn.clone(), hh.clone(), dd.clone(), sp.clone()]));
        inputs.push(tensor_info(&names[3 + 3 * i], vec![bn.clone(), hh, sp.clone(), dd]));
        inputs.push(tensor_info(&names[4 + 3 * i], vec![bn.clone(), Dim::Fixed(1), Dim::Fixed(film_w as i64)]));
    }
    if model.frame.is_some() {
        inputs.push(tensor_info("frame", vec![bn.clone(), sp.clone(), Dim::Fixed(d as i64)]));
    }
    b.g.inputs = inputs;

    // Timestep embedding: [sin(t·f) | cos(t·f)] → fc1 → SiLU → fc2, then SiLU (t_act).
    let freqs = b.weight("time.freqs", &model.time.freqs)?;
    let axes = b.ints("axes_last", &[-1]);
    let tt = b.node("Unsqueeze", &["t", &axes], vec![]);
    let args = b.node("Mul", &[&tt, &freqs], vec![]);
    let (sin, cos) = (b.node("Sin", &[&args], vec![]), b.node("Cos", &[&args], vec![]));
    let emb = b.node("Concat", &[&sin, &cos], vec![Attr::Int("axis", -1)]);
    let e1 = b.linear(&emb, &model.time.fc1, "time.fc1")?;
    let e1 = b.silu(&e1);
    let e2 = b.linear(&e1, &model.time.fc2, "time.fc2")?;
    let t_act = b.silu(&e2);

    // h = input(x_t) + pos[..S].
    let pos = b.weight("pos", &model.pos)?;
    let s_len = b.node("Shape", &["x_t"], vec![Attr::Int("start", 1), Attr::Int("end", 2)]);
    let zero = b.ints("zero", &[0]);
    let pos_s = b.node("Slice", &[&pos, &zero, &s_len, &zero], vec![]);
    let x_in = b.linear("x_t", &model.input, "input")?;
    let mut x = b.node("Add", &[&x_in, &pos_s], vec![]);
    if model.frame.is_some() {
        // + frame[:, ..S]
        let (one, axis1) = (b.ints("frame_slice_step", &[1]), b.ints("frame_slice_axis", &[1]));
        let frame_s = b.node("Slice", &["frame", &zero, &s_len, &axis1, &one], vec![]);
        x = b.node("Add", &[&x, &frame_s], vec![]);
    }

    let heads_shape = b.ints("heads_shape", &[0, 0, h as i64, dh as i64]);
    let merge_shape = b.ints("merge_shape", &[0, 0, d as i64]);
    let shapes = (heads_shape, merge_shape, 1.0 / (dh as f32).sqrt());
    for (i, blk) in model.blocks.iter().enumerate() {
        x = b.block(&x, &t_act, blk, cfg.activation, i, &names, &shapes)?;
    }
    let x = b.layer_norm(&x, &model.final_ln, "final_ln")?;
    let y = b.linear(&x, &model.output, "output")?;
    b.g.nodes.push(Node { op_type: "Identity", name: "x0".into(), inputs: vec![y], outputs: vec!["x0".into()], attrs: vec![] });
    b.g.outputs = vec![tensor_info("x0", vec![bn, s, Dim::Fixed(m as i64)])];
    b.g.name = "mocapd-denoiser".into();
    Ok(Model { ir_version: IR_VERSION, opset: OPSET, producer: "mocapd", graph: b.g }.to_bytes())
}

fn tensor_info(name: &str, dims: Vec<Dim>) -> ValueInfo {
    ValueInfo { name: name.to_string(), elem_type: FLOAT, dims }
}

/// Appends nodes with fresh output names and initializers to a graph.
#[derive(Default)]
struct Builder {
    g: Graph,
    n: usize,
}

impl Builder {
    fn node(&mut self, op: &'static str, inputs: &[&str], attrs: Vec<Attr>) -> String {
        self.node_n(op, inputs, attrs, 1).remove(0)
    }

    fn node_n(&mut self, op: &'static str, inputs: &[&str], attrs: Vec<Attr>, outputs: usize) -> Vec<String> {
        self.n += 1;
        let name = format!("{op}_{}", self.n);
        let outs: Vec<String> = (0..outputs).map(|i| format!("{name}:{i}")).collect();
        let inputs = inputs.iter().map(|s| s.to_string()).collect();
        self.g.nodes.push(Node { op_type: op, name, inputs, outputs: outs.clone(), attrs });
        outs
    }

    fn weight(&mut self, name: &str, t: &Tensor) -> Result<String> {
        let dims = t.dims().iter().map(|&v| v as i64).collect();
        let data = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        self.g.initializers.push(Initializer::f32(name.to_string(), dims, &data));
        Ok(name.to_string())
    }

    /// A named constant, added once however often it is asked for.
    fn constant(&mut self, init: Initializer) -> String {
        let name = init.name.clone();
        if !self.g.initializers.iter().any(|i| i.name == name) {
            self.g.initializers.push(init);
        }
        name
    }

    fn ints(&mut self, name: &str, v: &[i64]) -> String {
        self.constant(Initializer::i64(name.to_string(), v))
    }

    fn scalar(&mut self, name: &str, v: f32) -> String {
        self.constant(Initializer::f32(name.to_string(), vec![], &[v]))
    }

    /// x Wᵀ + b, as candle's `Linear` (weight stored transposed for MatMul).
    fn linear(&mut self, x: &str, lin: &Linear, name: &str) -> Result<String> {
        let w = self.weight(&format!("{name}.weight_t"), &lin.weight().t()?.contiguous()?)?;
        let y = self.node("MatMul", &[x, &w], vec![]);
        match lin.bias() {
            Some(bias) => {
                let bias = self.weight(&format!("{name}.bias"), bias)?;
                Ok(self.node("Add", &[&y, &bias], vec![]))
            }
            None => Ok(y),
        }
    }

    fn layer_norm(&mut self, x: &str, n: &Norm, name: &str) -> Result<String> {
        let w = self.weight(&format!("{name}.weight"), n.ln.weight())?;
        let bias = n.ln.bias().ok_or_else(|| candle_core::Error::msg(format!("{name}: layer norm without bias")))?;
        let bias = self.weight(&format!("{name}.bias"), bias)?;
        Ok(self.node("LayerNormalization", &[x, &w, &bias], vec![Attr::Int("axis", -1), Attr::Float("epsilon", n.eps as f32)]))
    }

    fn silu(&mut self, x: &str) -> String {
        let sg = self.node("Sigmoid", &[x], vec![]);
        self.node("Mul", &[x, &sg], vec![])
    }

    /// candle's tanh-approximated GELU: 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))).
    fn gelu_tanh(&mut self, x: &str) -> String {
        let (c, k, one, half) = (
            self.scalar("gelu.c", (2.0f32 / std::f32::consts::PI).sqrt()),
            self.scalar("gelu.k", 0.044715),
            self.scalar("one", 1.0),
            self.scalar("half", 0.5),
        );
        let x2 = self.node("Mul", &[x, x], vec![]);
        let kx2 = self.node("Mul", &[&x2, &k], vec![]);
        let inner = self.node("Add", &[&kx2, &one], vec![]);
        let xi = self.node("Mul", &[x, &inner], vec![]);
        let arg = self.node("Mul", &[&xi, &c], vec![]);
        let th = self.node("Tanh", &[&arg], vec![]);
        let th1 = self.node("Add", &[&th, &one], vec![]);
        let hx = self.node("Mul", &[x, &half], vec![]);
        self.node("Mul", &[&hx, &th1], vec![])
    }

    /// [B, S, d] → [B, H, S, dh] (`perm` [0, 2, 1, 3]) or keys [B, H, dh, S] ([0, 2, 3, 1]).
    fn split_heads(&mut self, x: &str, shape: &str, perm: &[i64]) -> String {
        let r = self.node("Reshape", &[x, shape], vec![]);
        self.node("Transpose", &[&r], vec![Attr::Ints("perm", perm.to_vec())])
    }

    /// softmax(scale · q kᵀ) v, heads merged back: [B, S, d].
    fn attend(&mut self, q: &str, k_t: &str, v: &str, scale: f32, merge: &str) -> String {
        let sc = self.scalar("attn_scale", scale);
        let s = self.node("MatMul", &[q, k_t], vec![]);
        let s = self.node("Mul", &[&s, &sc], vec![]);
        let w = self.node("Softmax", &[&s], vec![Attr::Int("axis", -1)]);
        let y = self.node("MatMul", &[&w, v], vec![]);
        let y = self.node("Transpose", &[&y], vec![Attr::Ints("perm", vec![0, 2, 1, 3])]);
        self.node("Reshape", &[&y, merge], vec![])
    }

    /// x + (1 + γ) ⊙ y + β.
    fn modulate(&mut self, x: &str, y: &str, (g, bt): &(String, String)) -> String {
        let yg = self.node("Mul", &[y, g], vec![]);
        let yb = self.node("Add", &[&yg, bt], vec![]);
        self.node("Add", &[x, &yb], vec![])
    }

    /// One FiLM block, as `Block::forward` (see block.rs).
    #[allow(clippy::too_many_arguments)]
    fn block(
        &mut self,
        x: &str,
        t_act: &str,
        blk: &Block,
        act: Activation,
        i: usize,
        names: &[String],
        shapes: &(String, String, f32),
    ) -> Result<String> {
        let (heads, merge, scale) = (shapes.0.as_str(), shapes.1.as_str(), shapes.2);
        let p = format!("blocks.{i}");
        let (k_t, v, film_p) = (&names[2 + 3 * i], &names[3 + 3 * i], &names[4 + 3 * i]);
        let d = blk.d as i64;
        // FiLM: film_t(t_act) + film_p → 2·pairs chunks of d: (γ0, β0, γ1, β1, …), γ as 1 + γ.
        let ft = self.linear(t_act, &blk.film_t, &format!("{p}.film_t"))?;
        let f = self.node("Add", &[&ft, film_p], vec![]);
        let split = self.ints(&format!("{p}.film_split"), &vec![d; 2 * blk.pairs]);
        let chunks = self.node_n("Split", &[&f, &split], vec![Attr::Int("axis", -1)], 2 * blk.pairs);
        let one = self.scalar("one", 1.0);
        let film: Vec<(String, String)> =
            (0..blk.pairs).map(|j| (self.node("Add", &[&chunks[2 * j], &one], vec![]), chunks[2 * j + 1].clone())).collect();
        let film = |j: usize| &film[j.min(blk.pairs - 1)];

        // Self-attention (fused QKV: columns [q | k | v], each H heads of dh).
        let n1 = self.layer_norm(x, &blk.ln1, &format!("{p}.ln1"))?;
        let qkv = self.linear(&n1, &blk.self_attn.qkv, &format!("{p}.self_attn.qkv"))?;
        let split3 = self.ints("qkv_split", &[d, d, d]);
        let parts = self.node_n("Split", &[&qkv, &split3], vec![Attr::Int("axis", -1)], 3);
        let q = self.split_heads(&parts[0], heads, &[0, 2, 1, 3]);
        let k_self = self.split_heads(&parts[1], heads, &[0, 2, 3, 1]);
        let v_self = self.split_heads(&parts[2], heads, &[0, 2, 1, 3]);
        let y = self.attend(&q, &k_self, &v_self, scale, merge);
        let y = self.linear(&y, &blk.self_attn.out, &format!("{p}.self_attn.out"))?;
        let x = self.modulate(x, &y, film(0));

        // Cross-attention to the per-window pose K/V.
        let n2 = self.layer_norm(&x, &blk.ln2, &format!("{p}.ln2"))?;
        let q = self.linear(&n2, &blk.cross_attn.q, &format!("{p}.cross_attn.q"))?;
        let q = self.split_heads(&q, heads, &[0, 2, 1, 3]);
        let y = self.attend(&q, k_t, v, scale, merge);
        let y = self.linear(&y, &blk.cross_attn.out, &format!("{p}.cross_attn.out"))?;
        let x = self.modulate(&x, &y, film(1));

        // MLP.
        let n3 = self.layer_norm(&x, &blk.ln3, &format!("{p}.ln3"))?;
        let hdn = self.linear(&n3, &blk.mlp.fc1, &format!("{p}.mlp.fc1"))?;
        let hdn = match act {
            Activation::Relu => self.node("Relu", &[&hdn], vec![]),
            Activation::Silu => self.silu(&hdn),
            Activation::Gelu => self.gelu_tanh(&hdn),
        };
        let y = self.linear(&hdn, &blk.mlp.fc2, &format!("{p}.mlp.fc2"))?;
        Ok(self.modulate(&x, &y, film(2)))
    }
}
