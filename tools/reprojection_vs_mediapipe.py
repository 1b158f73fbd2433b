#!/usr/bin/env python3
"""Reprojection error of lifted 3D joints against the detected 2D keypoints, for mocapd and for
MediaPipe BlazePose world landmarks on the same frames (a measurement tool, never a dependency).

    python3 -m venv .local/mp-venv && .local/mp-venv/bin/pip install mediapipe==0.10.14
    target/release/mocapd keypoints VIDEO --out k.jsonl
    target/release/mocapd lift k.jsonl --out m.jsonl
    .local/mp-venv/bin/python tools/reprojection_vs_mediapipe.py VIDEO k.jsonl m.jsonl [--json]

The 2D targets are mocapd's COCO-17 keypoints of the tracked performer (confidence ≥ 0.3) at the
shoulders, elbows, wrists, hips, knees and ankles. For each block of 150 frames one weak-perspective
camera (scale and 2D offset, the model's camera orientation kept) is fitted by least squares to each
method's 3D joints; the error is the mean pixel distance, and as a percentage of the person's height in
the image (median over frames of the keypoints' vertical extent). Only frames where both methods
have a pose count. mocapd's 3D is in the camera's gravity-view frame (y up); MediaPipe's world
landmarks have y down.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

# COCO index → (SMPL-24 index, BlazePose index)
PAIRS = {5: (16, 11), 6: (17, 12), 7: (18, 13), 8: (19, 14), 9: (20, 15), 10: (21, 16),
         11: (1, 23), 12: (2, 24), 13: (4, 25), 14: (5, 26), 15: (7, 27), 16: (8, 28)}  # fmt: skip
COCO = sorted(PAIRS)
MIN_CONF = 0.3


def read_keypoints(path: str) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    with open(path) as f:
        next(f)
        for line in f:
            r = json.loads(line)
            people = [p for p in r["people"] if p.get("id") == r.get("performer")] or r["people"][:1]
            if people:
                out[r["frame"]] = np.asarray(people[0]["keypoints"], dtype=np.float64)
    return out


def read_motion(path: str) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    with open(path) as f:
        next(f)
        for line in f:
            if line.strip():
                r = json.loads(line)
                if not r.get("inferred", False):
                    out[r["frame"]] = np.asarray(r["joints"], dtype=np.float64)
    return out


def mediapipe_world(video: str) -> dict[int, np.ndarray]:
    import cv2
    import mediapipe as mp

    out: dict[int, np.ndarray] = {}
    cap = cv2.VideoCapture(video)
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            res = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            if res.pose_world_landmarks is not None:
                out[i] = np.asarray([[p.x, p.y, p.z] for p in res.pose_world_landmarks.landmark])
            i += 1
    return out


def fit_error(points3: list[np.ndarray], targets: list[np.ndarray], y_up: bool) -> np.ndarray:
    """Per-point pixel errors after fitting u = s·x + a, v = ±s·y + b over all points of a block."""
    p = np.concatenate(points3)
    q = np.concatenate(targets)
    x, y = p[:, 0], (-p[:, 1] if y_up else p[:, 1])
    n = len(x)
    # unknowns s, a, b: rows for u and for v
    a_mat = np.zeros((2 * n, 3))
    a_mat[:n, 0], a_mat[:n, 1] = x, 1
    a_mat[n:, 0], a_mat[n:, 2] = y, 1
    rhs = np.concatenate([q[:, 0], q[:, 1]])
    sol, *_ = np.linalg.lstsq(a_mat, rhs, rcond=None)
    s, a, b = sol
    pred = np.stack([s * x + a, s * y + b], axis=1)
    return np.linalg.norm(pred - q, axis=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("video")
    ap.add_argument("keypoints")
    ap.add_argument("motion")
    ap.add_argument("--window", type=int, default=150)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    kp, motion, world = read_keypoints(a.keypoints), read_motion(a.motion), mediapipe_world(a.video)
    frames = sorted(f for f in kp if f in motion and f in world and (kp[f][COCO, 2] >= MIN_CONF).sum() >= 6)
    if not frames:
        print("no frame has a confident 2D pose, a lifted pose and a MediaPipe pose", file=sys.stderr)
        return 1
    heights = []
    errs: dict[str, list[np.ndarray]] = {"mocapd": [], "mediapipe": []}
    for start in range(frames[0], frames[-1] + 1, a.window):
        block = [f for f in frames if start <= f < start + a.window]
        if not block:
            continue
        tgt, m3, w3 = [], [], []
        for f in block:
            ok = [c for c in COCO if kp[f][c, 2] >= MIN_CONF]
            conf = kp[f][[c for c in range(17) if kp[f][c, 2] >= MIN_CONF]]
            heights.append(conf[:, 1].max() - conf[:, 1].min())
            tgt.append(kp[f][ok, :2])
            m3.append(motion[f][[PAIRS[c][0] for c in ok]])
            w3.append(world[f][[PAIRS[c][1] for c in ok]])
        errs["mocapd"].append(fit_error(m3, tgt, y_up=True))
        errs["mediapipe"].append(fit_error(w3, tgt, y_up=False))
    h = float(np.median(heights))
    report = {"frames": len(frames), "person_height_px": h}
    for name, e in errs.items():
        px = float(np.concatenate(e).mean())
        report[name] = {"px": px, "percent_of_height": 100 * px / h}
    if a.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{len(frames)} frames, person {h:.0f} px tall (median)")
        for name in errs:
            print(f"  {name:9s}: {report[name]['px']:6.1f} px  ({report[name]['percent_of_height']:.1f} % of height)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
