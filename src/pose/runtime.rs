//! MoveNet on `ort`: build sessions in the process-wide environment ([`crate::onnxrt::environment`]), check
//! their I/O, run them.

use std::path::{Path, PathBuf};

use ort::session::{builder::GraphOptimizationLevel, Session};
use ort::value::{TensorElementType, TensorRef, ValueType};

use super::error::PoseError;
use super::settings::ModelKind;

/// A loaded MoveNet model whose inputs and outputs have been checked against its kind.
pub struct ModelSession {
    session: Session,
    kind: ModelKind,
    input_name: String,
    output_name: String,
    path: PathBuf,
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn fmt_shape(dims: &[i64]) -> String {
    let d: Vec<String> = dims.iter().map(|&d| if d < 0 { "?".to_string() } else { d.to_string() }).collect();
    format!("[{}]", d.join(","))
}

fn tensor_info(v: &ValueType) -> Option<(TensorElementType, Vec<i64>)> {
    match v {
        ValueType::Tensor { ty, shape, .. } => Some((*ty, shape.to_vec())),
        _ => None,
    }
}

/// Which model kind these shapes look like, for the "pass --model X" hint.
fn guess_kind(input: &[i64], output: &[i64]) -> String {
    match (input, output) {
        (_, [_, _, 56]) => "multipose".into(),
        ([_, 192, 192, 3], [.., 17, 3]) => "lightning".into(),
        ([_, 256, 256, 3], [.., 17, 3]) => "thunder".into(),
        _ => "lightning|thunder|multipose".into(),
    }
}

fn dims_match(found: &[i64], expected: &[i64]) -> bool {
    found.len() == expected.len() && found.iter().zip(expected).all(|(&f, &e)| f == e || f < 0 || e < 0)
}

impl ModelSession {
    /// Loads `path` as a model of `kind` with `threads` intra-op threads (inter-op 1), checks its I/O
    /// and runs it once on a blank input (`warmup_hw` for multipose) so the first real frame is not slow.
    pub fn load(
        env: &ort::environment::Environment,
        kind: ModelKind,
        path: &Path,
        threads: usize,
        warmup_hw: (u32, u32),
    ) -> Result<Self, PoseError> {
        if !path.is_file() {
            return Err(PoseError::ModelNotFound { path: path.to_path_buf(), looked: None });
        }
        let load_err = |e: &dyn std::fmt::Display| PoseError::ModelLoad { path: path.to_path_buf(), message: e.to_string() };
        let session = Session::builder(env)
            .and_then(|b| b.with_optimization_level(GraphOptimizationLevel::Level3).map_err(Into::into))
            .and_then(|b| b.with_intra_threads(threads.max(1)).map_err(Into::into))
            .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
            .and_then(|mut b| b.commit_from_file(path))
            .map_err(|e| load_err(&e))?;
        let mut me = Self::check(session, kind, path)?;
        let (h, w) = match kind.input_size() {
            Some(s) => (s, s),
            None => warmup_hw,
        };
        let blank = vec![0i32; (h * w * 3) as usize];
        let mut out = Vec::new();
        me.run(&blank, h, w, &mut out)?;
        Ok(me)
    }

    fn check(session: Session, kind: ModelKind, path: &Path) -> Result<Self, PoseError> {
        let file = file_name(path);
        let (Some(input), Some(output)) = (session.inputs().first(), session.outputs().first()) else {
            return Err(PoseError::ModelLoad { path: path.to_path_buf(), message: "model has no inputs or no outputs".into() });
        };
        let (in_ty, in_shape) = tensor_info(input.dtype()).unwrap_or((TensorElementType::Float32, vec![]));
        let (out_ty, out_shape) = tensor_info(output.dtype()).unwrap_or((TensorElementType::Int32, vec![]));
        let (exp_in, exp_out): (Vec<i64>, Vec<i64>) = match kind.input_size() {
            Some(s) => (vec![1, s as i64, s as i64, 3], vec![1, 1, 17, 3]),
            None => (vec![1, -1, -1, 3], vec![1, 6, 56]),
        };
        let mismatch = |found: String, expected: String| PoseError::ModelMismatch {
            file: file.clone(),
            found,
            kind: kind.name(),
            expected,
            suggest: guess_kind(&in_shape, &out_shape),
        };
        let one_int_input = session.inputs().len() == 1 && in_ty == TensorElementType::Int32;
        if !one_int_input {
            let found = format!("{} input(s), the first {:?} {}", session.inputs().len(), in_ty, fmt_shape(&in_shape));
            return Err(mismatch(found, format!("one int32 input {}", fmt_shape(&exp_in))));
        }
        if !dims_match(&in_shape, &exp_in) {
            return Err(mismatch(format!("input {}", fmt_shape(&in_shape)), fmt_shape(&exp_in)));
        }
        if out_ty != TensorElementType::Float32 || !dims_match(&out_shape, &exp_out) {
            return Err(mismatch(
                format!("output {:?} {}", out_ty, fmt_shape(&out_shape)),
                format!("float32 output {}", fmt_shape(&exp_out)),
            ));
        }
        Ok(ModelSession {
            kind,
            input_name: input.name().to_string(),
            output_name: output.name().to_string(),
            path: path.to_path_buf(),
            session,
        })
    }

    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs the model on an NHWC int32 RGB image of `h` x `w`; the flat float output goes into `out`.
    pub fn run(&mut self, input: &[i32], h: u32, w: u32, out: &mut Vec<f32>) -> Result<(), PoseError> {
        let shape = [1usize, h as usize, w as usize, 3];
        let tensor = TensorRef::from_array_view((shape, input)).map_err(|e| PoseError::inference("infer", e))?;
        let outputs = self.session.run(ort::inputs![self.input_name.as_str() => tensor]).map_err(|e| PoseError::inference("infer", e))?;
        let value = outputs
            .get(self.output_name.as_str())
            .ok_or_else(|| PoseError::inference("infer", format!("no output named '{}'", self.output_name)))?;
        let (_, data) = value.try_extract_tensor::<f32>().map_err(|e| PoseError::inference("infer", e))?;
        out.clear();
        out.extend_from_slice(data);
        Ok(())
    }
}
