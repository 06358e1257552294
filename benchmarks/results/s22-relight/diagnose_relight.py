"""Where the identity goes, in process (s22-identity): dlib distance to the source photo of
(a) the clean source texture, (b) the swapper's layer composited as it is (before the blend stage:
no colour transfer, camera detail, kept regions), (c) the blend stage's output; for main's defaults
and one change at a time. Run from a worktree root:

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/results/s22-identity/diagnose.py \
        [--pairs s42:d3 s12:d10] [--frames 0 10 20] [--variants NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

import cv2
import numpy as np

from benchmarks.identity import IdentityModel
from benchmarks.quality_swap import embed_face
from realtime.blend import stage as blend_stage
from realtime.blend.stage import BlendStage
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.faces.topology import topology
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap import mesh as mesh_mod
from realtime.swap.mesh import MeshSwapper
from tests.test_swap_sharp import frame_of

MEDIA = "/work/wt/shared/media/"


@contextlib.contextmanager
def patched(module, name, value):
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


def source_eyes(output, source_image, source_points, points):
    """The source photo's eyes (lids, lash lines, irises) pasted over the output's eye openings by an
    affine per eye (a diagnostic of how much the target's own eyes in the mesh's holes cost)."""
    top = topology()
    out = output.copy()
    for loop in (top.right_eye, top.left_eye):
        src, dst = source_points[loop, :2].astype(np.float32), points[loop, :2].astype(np.float32)
        matrix, _ = cv2.estimateAffinePartial2D(src, dst)
        warped = cv2.warpAffine(source_image, matrix, out.shape[1::-1], flags=cv2.INTER_CUBIC)
        mask = np.zeros(out.shape[:2], np.uint8)
        centre = dst.mean(axis=0)
        grown = centre + 1.6 * (dst - centre)  # lids and lash lines around the opening
        cv2.fillPoly(mask, [np.round(grown).astype(np.int32)], 255)
        soft = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), 2.0)[..., None]
        out = (out * (1 - soft) + warped * soft).astype(np.uint8)
    return out


import realtime.swap.mesh as _m
_orig_gain = _m._side_gain
def _gain_variant(kind):
    def g(normals, coeffs, shading):
        c = np.array(coeffs, np.float32, copy=True)
        n = normals
        if kind == "noside": c[1] = 0
        if kind == "notop": c[2] = 0
        if kind.startswith("smooth"):
            frac = float(kind[6:]) / 100
            n = normals.copy()
            sig = max(0.5, frac * 0.8 * normals.shape[1])
            for ax in (0, 1):
                n[..., ax] = cv2.GaussianBlur(normals[..., ax], (0, 0), sig)
        if kind.startswith("lo"):
            g = _orig_gain(n, c, 1.0)
            g = np.clip(g, float(kind[2:]), None)
            return g if shading == 1.0 else cv2.pow(g, float(shading))
        return _orig_gain(n, c, shading)
    return g

_orig_st = _m.source_texture
def _tex_variant(spec):
    parts = spec.split(",")
    fx, fy = float(parts[0]) / 100, float(parts[1]) / 100
    mix = float(parts[2]) if len(parts) > 2 and parts[2][0].isdigit() else 1.0
    region = parts[-1] if parts[-1] in ("eyes", "rest") else None
    def st(source, triangles, clean=None):
        t = _orig_st(source, triangles, clean)
        if t.normals is None:
            return t
        n = t.normals.copy()
        for ax, fr in ((0, fx), (1, fy)):
            if fr > 0:
                n[..., ax] = cv2.GaussianBlur(t.normals[..., ax], (0, 0), max(0.5, fr * t.face_size / 2))
        import dataclasses
        if mix < 1:
            n = mix * n + (1 - mix) * t.normals
        if region:
            from realtime.faces.topology import topology as _top
            tp = _top()
            m = np.zeros(n.shape[:2], np.float32)
            for eye, brow in ((tp.right_eye, tp.right_eyebrow), (tp.left_eye, tp.left_eyebrow)):
                pts = np.concatenate([t.points[eye], t.points[brow]])[:, :2] / 2
                cv2.fillConvexPoly(m, cv2.convexHull(np.round(pts).astype(np.int32)), 1.0)
            m = cv2.GaussianBlur(cv2.dilate(m, np.ones((7, 7), np.uint8)), (0, 0), max(1.0, 0.02 * t.face_size / 2))[..., None]
            if region == "eyes":
                n = m * n + (1 - m) * t.normals
            else:
                n = (1 - m) * n + m * t.normals
        return dataclasses.replace(t, normals=n)
    return st

VARIANTS = {
    "tex6,3": {"@tex": "6,3"}, "tex6,6": {"@tex": "6,6"}, "tex3,3": {"@tex": "3,3"}, "tex8,8": {"@tex": "8,8"}, "tex4,4": {"@tex": "4,4"}, "tex3,1.5": {"@tex": "3,1.5"}, "tex2,1": {"@tex": "2,1"}, "mix": {"@tex": "6,3,0.5"}, "eyes": {"@tex": "6,3,eyes"}, "rest": {"@tex": "6,3,rest"}, "tex1.5,1.5": {"@tex": "1.5,1.5"},
    "default": {},
    "lo0.8": {"@gain": "lo0.8"}, "lo0.85": {"@gain": "lo0.85"}, "lo0.75": {"@gain": "lo0.75"},
    "noside": {"@gain": "noside"}, "notop": {"@gain": "notop"},
    "smooth3": {"@gain": "smooth3"}, "smooth6": {"@gain": "smooth6"}, "smooth10": {"@gain": "smooth10"},
    "face_shape=0": {"face_shape": 0.0},
    "face_shape=0.5": {"face_shape": 0.5},
    "face_shape=1": {"face_shape": 1.0},
    "color_transfer=0.5": {"color_transfer": 0.5},
    "color_transfer=0": {"color_transfer": 0.0},
    "shading=0": {"shading": 0.0},
    "grain=0": {"grain": 0.0},
    "skin_tone=0": {"skin_tone": 0.0},
    "keep_occluders=false": {"keep_occluders": False},
    "feather=0.02": {"feather": 0.02},
    "clean_source=false": {"clean_source": False},
    "shading=0.6": {"shading": 0.6},
    "shading=0.4": {"shading": 0.4},
    "feather=0.03": {"feather": 0.03},
    "color_transfer=0.8": {"color_transfer": 0.8},
    "all towards the source": {"face_shape": 1.0, "feather": 0.02, "shading": 0.0, "clean_source": False,
                               "keep_occluders": False, "@eye_zones": True},
    "... and the source's eyes pasted": {"face_shape": 1.0, "feather": 0.02, "shading": 0.0, "clean_source": False,
                                        "keep_occluders": False, "@eye_zones": True, "@source_eyes": True},
    "makeup=1": {"makeup": 1.0},
    "eye_zones off (source lash lines)": {"@eye_zones": True},
    "erase_brows off (target brows kept)": {"@erase_brows": True},
    "source eyes pasted (diagnostic)": {"@source_eyes": True},
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", nargs="+", default=["s42:d3", "s12:d10"])
    parser.add_argument("--frames", nargs="+", type=int, default=[0, 10, 20])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--set", action="append", default=[], help="NAME=VALUE for every variant (a base)")
    args = parser.parse_args()
    base = {}
    for item in args.set:
        name, value = item.split("=", 1)
        base[name] = float(value) if value.replace(".", "").isdigit() else (value == "true")
    det = create_detector(FaceSettings(max_faces=1), static=True)
    model = IdentityModel()
    lib = SourceLibrary()
    pairs = [tuple(p.split(":")) for p in args.pairs]
    videos = sorted({v for _, v in pairs})
    frames = {v: [frame_of(v + ".mp4", i) for i in args.frames] for v in videos}
    faces = {v: [det.detect(im)[0] for im in ims] for v, ims in frames.items()}
    sources = {s: lib.get(MEDIA + s + ".jpg") for s in sorted({s for s, _ in pairs})}
    reference = {s: model.embed(src.image) for s, src in sources.items()}
    print("variant | " + " | ".join(f"{s}>{v} texture/layer/output" for s, v in pairs) + " | mean output", flush=True)
    for name in args.variants:
        sets = {**base, **VARIANTS[name]}
        flags = {k for k in sets if k.startswith("@")}
        settings = Settings().replace(**{k: v for k, v in sets.items() if not k.startswith("@")})
        cells, outs = [], []
        started = time.process_time()
        with contextlib.ExitStack() as stack:
            if "@eye_zones" in flags:
                stack.enter_context(patched(mesh_mod, "eye_zones", lambda *a, **k: (None, None)))
            if "@tex" in flags:
                stack.enter_context(patched(mesh_mod, "source_texture", _tex_variant(sets["@tex"])))
            if "@gain" in flags:
                stack.enter_context(patched(mesh_mod, "_side_gain", _gain_variant(sets["@gain"])))
            if "@erase_brows" in flags:
                stack.enter_context(patched(blend_stage, "erase_brows", lambda *a, **k: None))
            for s, v in pairs:
                src = sources[s]
                src.memo.clear()
                swapper = MeshSwapper(settings)
                swapper.set_source(src)
                blend = BlendStage(settings)
                tex = swapper.clean_texture
                if tex is not None:
                    e = embed_face(model, tex.image, tex.landmarks)
                    d_tex = model.distance(e, reference[s]) if e is not None else float("nan")
                else:
                    d_tex = 0.0
                d_layer, d_out = [], []
                for i, (image, face) in enumerate(zip(frames[v], faces[v], strict=True)):
                    frame = Frame(index=i, image=image, capture_ns=int(i * 1e9 / 30), pts=i / 30, faces=[face])
                    frame.layers = swapper.swap(frame, [face])
                    if not frame.layers:
                        continue
                    layer = frame.layers[0]
                    under = (frame.output if frame.output is not None else image).copy()
                    x0, y0, x1, y1 = layer.box
                    size = (x1 - x0, y1 - y0)
                    patch = layer.image if layer.image.shape[1::-1] == size else cv2.resize(layer.image, size)
                    alpha = layer.alpha if layer.alpha.shape[::-1] == size else cv2.resize(layer.alpha, size)
                    alpha = alpha[..., None]
                    under[y0:y1, x0:x1] = (under[y0:y1, x0:x1] * (1 - alpha) + patch * alpha).astype(np.uint8)
                    points = layer.face.landmarks
                    output = blend.process(frame).output
                    if "@source_eyes" in flags:
                        output = source_eyes(output, src.image, src.face.landmarks, points)
                        under = source_eyes(under, src.image, src.face.landmarks, points)
                    for picture, into in ((under, d_layer), (output, d_out)):
                        e = embed_face(model, picture, points)
                        if e is not None:
                            into.append(model.distance(e, reference[s]))
                    if i == 1:
                        cv2.imwrite(f"/tmp/s22-relight/diag_{s}_{v}_{name.split()[0]}.png", output[y0:y1, x0:x1])
                        cv2.imwrite(f"/tmp/s22-relight/diag_{s}_{v}_{name.split()[0]}_layer.png", under[y0:y1, x0:x1])
                swapper.close()
                cells.append(f"{d_tex:.3f}/{np.mean(d_layer):.3f}/{np.mean(d_out):.3f}")
                outs.append(np.mean(d_out))
        print(f"{name} | " + " | ".join(cells) + f" | {np.mean(outs):.3f} ({time.process_time() - started:.0f}s)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
