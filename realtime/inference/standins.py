"""Small ONNX models with the exact input/output names and shapes of the real ones, built with
the onnx package's helper API: tests and benchmarks run the whole neural path with them, and
nothing is downloaded. (Needs `onnx`, which is in the `test` and `cpu`/`gpu` extras.)

- `identity_swapper`: inswapper's interface (target, source -> output, `emap` as the LAST
  initializer) returning its target: align + swap + paste-back must reproduce the frame.
- `recogniser`: w600k_r50's interface; the embedding depends on the face's colours.
- `enhancer`: GFPGAN's interface; adds `lift` (in its [-1, 1] scale) so its effect is visible.
- `liveportrait_set`: feature extractor, motion extractor, stitcher, generator.
- `heavy_swapper`: inswapper's interface with about 130 M parameters at 128x128, for timing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OPSET = 20  # GridSample with 5-D inputs needs opset 20


def _onnx():
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    return onnx, TensorProto, helper, numpy_helper


def _save(graph, path: Path, opset: int = OPSET) -> Path:
    onnx, _, helper, _ = _onnx()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="facecam-standin")
    model.ir_version = 9
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def identity_swapper(path: Path, batch: int | str = 1, emap_seed: int = 0,
                     source_batch: int | str = 1) -> Path:
    """With `source_batch="N"` the graph joins each target row with its own source row (a
    Concat along the features), so a source of one row fed with N targets fails to run."""
    onnx, tp, helper, numpy_helper = _onnx()
    rng = np.random.default_rng(emap_seed)
    one = numpy_helper.from_array(np.ones((1,), np.float32), "one")
    emap = numpy_helper.from_array(rng.standard_normal((512, 512)).astype(np.float32), "emap")
    inits = [one]
    if source_batch == 1:
        nodes = [helper.make_node("Mul", ["target", "one"], ["output"])]
    else:
        inits += [numpy_helper.from_array(np.array([0, 3 * 128 * 128], np.int64), "flat"),
                  numpy_helper.from_array(np.array([-1, 3, 128, 128], np.int64), "image"),
                  numpy_helper.from_array(np.array([0], np.int64), "start"),
                  numpy_helper.from_array(np.array([3 * 128 * 128], np.int64), "end"),
                  numpy_helper.from_array(np.array([1], np.int64), "axis")]
        nodes = [helper.make_node("Reshape", ["target", "flat"], ["rows"]),
                 helper.make_node("Concat", ["rows", "source"], ["joined"], axis=1),
                 helper.make_node("Slice", ["joined", "start", "end", "axis"], ["back"]),
                 helper.make_node("Reshape", ["back", "image"], ["output"])]
    graph = helper.make_graph(
        nodes, "identity_swapper",
        [helper.make_tensor_value_info("target", tp.FLOAT, [batch, 3, 128, 128]),
         helper.make_tensor_value_info("source", tp.FLOAT, [source_batch, 512])],
        [helper.make_tensor_value_info("output", tp.FLOAT, [batch, 3, 128, 128])],
        initializer=[*inits, emap])  # emap last, as in the real model
    return _save(graph, path)


def recogniser(path: Path) -> Path:
    onnx, tp, helper, numpy_helper = _onnx()
    rng = np.random.default_rng(1)
    weight = numpy_helper.from_array(rng.standard_normal((3, 512)).astype(np.float32), "w")
    nodes = [helper.make_node("GlobalAveragePool", ["input.1"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["flat"]),
             helper.make_node("MatMul", ["flat", "w"], ["683"])]
    graph = helper.make_graph(
        nodes, "recogniser",
        [helper.make_tensor_value_info("input.1", tp.FLOAT, ["N", 3, 112, 112])],
        [helper.make_tensor_value_info("683", tp.FLOAT, ["N", 512])], initializer=[weight])
    return _save(graph, path)


def enhancer(path: Path, lift: float = 0.1) -> Path:
    onnx, tp, helper, numpy_helper = _onnx()
    value = numpy_helper.from_array(np.full((1,), lift, np.float32), "lift")
    graph = helper.make_graph(
        [helper.make_node("Add", ["input", "lift"], ["output"])], "enhancer",
        [helper.make_tensor_value_info("input", tp.FLOAT, [1, 3, 512, 512])],
        [helper.make_tensor_value_info("output", tp.FLOAT, [1, 3, 512, 512])], initializer=[value])
    return _save(graph, path)


MOTION_NAMES = ("pitch", "yaw", "roll", "scale", "translation", "expression", "motion_points")


def liveportrait_set(folder: Path, motion_names: tuple[str, ...] = MOTION_NAMES) -> dict[str, Path]:
    """The four LivePortrait graphs (file names as in the catalogue). The generator samples the
    feature volume with a 5-D GridSample, like the real warping module. `motion_names` renames
    the motion extractor's outputs (their order is the contract, not their names)."""
    onnx, tp, helper, numpy_helper = _onnx()
    folder = Path(folder)
    rng = np.random.default_rng(2)
    paths = {}

    def info(name, shape):
        return helper.make_tensor_value_info(name, tp.FLOAT, shape)

    # Feature volume: the crop itself at 64x64 in channels 0..2 of every depth slice (so the
    # generator renders the portrait and any motion is visible), zeros elsewhere.
    f_inits = [numpy_helper.from_array(np.array([1, 3, 64, 64], np.int64), "size64"),
               numpy_helper.from_array(np.array([1, 3, 1, 64, 64], np.int64), "shape5"),
               numpy_helper.from_array(np.array([1, 1, 16, 1, 1], np.int64), "repeats"),
               numpy_helper.from_array(np.zeros((1, 29, 16, 64, 64), np.float32), "rest")]
    graph = helper.make_graph(
        [helper.make_node("Resize", ["input", "", "", "size64"], ["small"], mode="linear"),
         helper.make_node("Reshape", ["small", "shape5"], ["slab5"]),
         helper.make_node("Tile", ["slab5", "repeats"], ["rgb16"]),
         helper.make_node("Concat", ["rgb16", "rest"], ["output"], axis=1)], "feature_extractor",
        [info("input", [1, 3, 256, 256])], [info("output", [1, 32, 16, 64, 64])],
        initializer=f_inits)
    paths["liveportrait_feature_extractor"] = _save(graph, folder / "live_portrait_feature_extractor.onnx")

    # Motion: yaw from the mean colour; x translation from the horizontal centroid of the
    # crop's brightness (so a face that moves right in the crop moves the keypoints right);
    # keypoints from a fixed grid + mean colour. Outputs in FaceFusion's order.
    consts = {
        "zero11": np.zeros((1, 1), np.float32), "one11": np.ones((1, 1), np.float32),
        "zero13": np.zeros((1, 3), np.float32),
        "kp": rng.uniform(-0.5, 0.5, (1, 21, 3)).astype(np.float32),
        "exp_gain": np.full((1, 21, 3), 0.1, np.float32), "angle_gain": np.full((1, 1), 20.0, np.float32),
        "xramp": np.linspace(-1, 1, 256, dtype=np.float32).reshape(1, 1, 1, 256),
        "x_axis": np.array([[10, 0, 0]], np.float32),  # amplified: a visible shift
    }
    inits = [numpy_helper.from_array(v, k) for k, v in consts.items()]
    nodes = [helper.make_node("ReduceMean", ["input"], ["m4"], keepdims=0),
             helper.make_node("Reshape", ["m4", "one_shape"], ["m"]),
             helper.make_node("Mul", ["input", "xramp"], ["weighted"]),
             helper.make_node("ReduceMean", ["weighted"], ["wx4"], keepdims=0),
             helper.make_node("Reshape", ["wx4", "one_shape"], ["wx"]),
             helper.make_node("Div", ["wx", "m"], ["centroid"]),
             helper.make_node("Mul", ["centroid", "x_axis"], ["translation"]),
             helper.make_node("Mul", ["m", "angle_gain"], ["yaw"]),
             helper.make_node("Add", ["zero11", "zero11"], ["pitch"]),
             helper.make_node("Add", ["zero11", "zero11"], ["roll"]),
             helper.make_node("Add", ["one11", "zero11"], ["scale"]),
             helper.make_node("Mul", ["exp_gain", "m"], ["expression"]),
             helper.make_node("Add", ["kp", "zero13"], ["motion_points"])]
    inits.append(numpy_helper.from_array(np.array([1, 1], np.int64), "one_shape"))
    outputs = [info(name, shape) for name, shape in zip(motion_names, (
        [1, 1], [1, 1], [1, 1], [1, 1], [1, 3], [1, 21, 3], [1, 21, 3]), strict=True)]
    renames = dict(zip(("pitch", "yaw", "roll", "scale", "translation", "expression", "motion_points"),
                       motion_names, strict=True))
    for node in nodes:
        node.output[:] = [renames.get(name, name) for name in node.output]
    graph = helper.make_graph(nodes, "motion_extractor", [info("input", [1, 3, 256, 256])], outputs,
                              initializer=inits)
    paths["liveportrait_motion_extractor"] = _save(graph, folder / "live_portrait_motion_extractor.onnx")

    # Stitcher, asymmetric on purpose: it returns mostly its `source` (the driven keypoints,
    # as FaceFusion feeds it) nudged 10% towards `target` (the portrait's own), so a caller
    # that swaps the two gets the portrait's keypoints back and the portrait does not move.
    weights = {"w_source": np.full((1,), 0.9, np.float32), "w_target": np.full((1,), 0.1, np.float32)}
    graph = helper.make_graph(
        [helper.make_node("Mul", ["source", "w_source"], ["a"]),
         helper.make_node("Mul", ["target", "w_target"], ["b"]),
         helper.make_node("Add", ["a", "b"], ["output"])], "stitcher",
        [info("source", [1, 21, 3]), info("target", [1, 21, 3])], [info("output", [1, 21, 3])],
        initializer=[numpy_helper.from_array(v, k) for k, v in weights.items()])
    paths["liveportrait_stitcher"] = _save(graph, folder / "live_portrait_stitcher.onnx")

    # Generator: a 5-D GridSample of the feature volume on a grid moved by the mean keypoint
    # motion from `target` (the portrait's keypoints, where the volume was extracted) to
    # `source` (the driven ones): the rendered content moves the way the keypoints moved
    # (output(p) = volume(p - shift)); swapping the inputs moves it the other way. Then
    # channels 0..2 (the crop's RGB) of the middle depth slice, upsampled to 512.
    base = np.stack(np.meshgrid(np.linspace(-1, 1, 64), np.linspace(-1, 1, 64), indexing="xy"), -1)
    grid = np.zeros((1, 16, 64, 64, 3), np.float32)
    grid[..., :2] = base
    grid[..., 2] = np.linspace(-1, 1, 16)[None, :, None, None]
    g_inits = [numpy_helper.from_array(grid, "grid"),
               numpy_helper.from_array(np.array([0, 0, 8, 0, 0], np.int64), "starts"),
               numpy_helper.from_array(np.array([1, 3, 9, 64, 64], np.int64), "ends"),
               numpy_helper.from_array(np.array([1, 3, 64, 64], np.int64), "shape4"),
               numpy_helper.from_array(np.array([1, 3, 512, 512], np.int64), "size"),
               numpy_helper.from_array(np.array([1], np.int64), "axis1")]
    g_nodes = [helper.make_node("Sub", ["source", "target"], ["motion"]),
               helper.make_node("ReduceMean", ["motion", "axis1"], ["shift"], keepdims=0),
               helper.make_node("Sub", ["grid", "shift"], ["moved"]),
               helper.make_node("GridSample", ["feature_volume", "moved"], ["sampled"],
                                mode="linear", padding_mode="border", align_corners=1),
               helper.make_node("Slice", ["sampled", "starts", "ends"], ["slab"]),
               helper.make_node("Reshape", ["slab", "shape4"], ["rgb"]),
               helper.make_node("Resize", ["rgb", "", "", "size"], ["output"], mode="linear")]
    graph = helper.make_graph(g_nodes, "generator",
                              [info("feature_volume", [1, 32, 16, 64, 64]), info("source", [1, 21, 3]),
                               info("target", [1, 21, 3])], [info("output", [1, 3, 512, 512])],
                              initializer=g_inits)
    paths["liveportrait_generator"] = _save(graph, folder / "live_portrait_generator.onnx")
    return paths


def heavy_swapper(path: Path, width: int = 1024, blocks: int = 12, seed: int = 3) -> Path:
    """inswapper's interface and about its size: 3x3 convolutions of `width` channels at 16x16
    (width=1024, blocks=12: ~127 M parameters, ~510 MB, ~30 GMAC). Weights random; output in
    [0, 1]."""
    onnx, tp, helper, numpy_helper = _onnx()
    rng = np.random.default_rng(seed)
    inits, nodes = [], []

    def conv(x, cin, cout, k, stride, name, act=True):
        weight = (rng.standard_normal((cout, cin, k, k), dtype=np.float32) * np.float32((2.0 / (cin * k * k)) ** 0.5))
        inits.append(numpy_helper.from_array(weight, name + "_w"))
        inits.append(numpy_helper.from_array(np.zeros(cout, np.float32), name + "_b"))
        nodes.append(helper.make_node("Conv", [x, name + "_w", name + "_b"], [name], strides=[stride, stride],
                                      pads=[k // 2] * 4))
        if not act:
            return name
        nodes.append(helper.make_node("Relu", [name], [name + "_r"]))
        return name + "_r"

    quarter = max(width // 4, 8)
    x = conv("target", 3, quarter // 2, 3, 1, "c0")
    x = conv(x, quarter // 2, quarter, 3, 2, "c1")
    x = conv(x, quarter, width, 3, 2, "c2")
    x = conv(x, width, width, 3, 2, "c3")
    for index in range(blocks):
        x = conv(x, width, width, 3, 1, f"b{index}")
    scales = numpy_helper.from_array(np.array([1, 1, 8, 8], np.float32), "up")
    nodes.append(helper.make_node("Resize", [x, "", "up"], ["u"], mode="nearest"))
    inits.append(scales)
    x = conv("u", width, quarter // 2, 3, 1, "d0")
    x = conv(x, quarter // 2, 3, 3, 1, "d1", act=False)
    nodes.append(helper.make_node("Sigmoid", [x], ["output"]))
    inits.append(numpy_helper.from_array(rng.standard_normal((512, 512)).astype(np.float32), "emap"))
    graph = helper.make_graph(
        nodes, "heavy_swapper",
        [helper.make_tensor_value_info("target", tp.FLOAT, [1, 3, 128, 128]),
         helper.make_tensor_value_info("source", tp.FLOAT, [1, 512])],
        [helper.make_tensor_value_info("output", tp.FLOAT, [1, 3, 128, 128])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 9
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))  # > 2 GB never happens here; checker skipped (slow on 500 MB)
    return path


def parameter_count(path: Path) -> int:
    onnx, _, _, _ = _onnx()
    model = onnx.load(str(path))
    return int(sum(np.prod(init.dims) for init in model.graph.initializer))


def dfm(path: Path, resolution: int = 224, morph: bool = False, mask: str = "ones",
        batch: int | str = "N") -> Path:
    """A DeepFaceLab `.dfm` with the exact contract of DeepFaceLab's export_dfm (tf2onnx,
    opset 12): input `in_face:0` (N, res, res, 3) NHWC, `morph_value:0` (1,) for AMP models;
    outputs in the export's order `out_face_mask:0`, `out_celeb_face:0`, `out_celeb_face_mask:0`.
    The "celeb" face is the input face (an identity model), darkened by 0.5 x morph for an AMP
    model (so a morph value that does not arrive shows). `mask="disc"`: the face mask is a disc
    of radius res/4 around the centre (so a mask that is not used shows)."""
    onnx, tp, helper, numpy_helper = _onnx()
    inits = [numpy_helper.from_array(np.array([0], np.int64), "c0"),
             numpy_helper.from_array(np.array([1], np.int64), "c1"),
             numpy_helper.from_array(np.array([3], np.int64), "axis3"),
             numpy_helper.from_array(np.ones((1,), np.float32), "one"),
             numpy_helper.from_array(np.full((1,), -0.5, np.float32), "minus_half")]
    nodes = [helper.make_node("Slice", ["in_face:0", "c0", "c1", "axis3"], ["channel0"]),
             helper.make_node("Mul", ["channel0", "zero"], ["zeros1"]),
             helper.make_node("Add", ["zeros1", "one"], ["ones1"])]
    inits.append(numpy_helper.from_array(np.zeros((1,), np.float32), "zero"))
    if mask == "disc":
        yy, xx = np.mgrid[:resolution, :resolution] + 0.5
        disc = ((xx - resolution / 2) ** 2 + (yy - resolution / 2) ** 2 <= (resolution / 4) ** 2)
        inits.append(numpy_helper.from_array(disc.astype(np.float32).reshape(1, resolution, resolution, 1), "disc"))
        nodes.append(helper.make_node("Mul", ["ones1", "disc"], ["out_face_mask:0"]))
    else:
        nodes.append(helper.make_node("Identity", ["ones1"], ["out_face_mask:0"]))
    inputs = [helper.make_tensor_value_info("in_face:0", tp.FLOAT, [batch, resolution, resolution, 3])]
    if morph:
        inputs.append(helper.make_tensor_value_info("morph_value:0", tp.FLOAT, [1]))
        nodes += [helper.make_node("Mul", ["morph_value:0", "minus_half"], ["dim"]),
                  helper.make_node("Add", ["dim", "one"], ["gain"]),
                  helper.make_node("Mul", ["in_face:0", "gain"], ["out_celeb_face:0"])]
    else:
        nodes.append(helper.make_node("Identity", ["in_face:0"], ["out_celeb_face:0"]))
    nodes.append(helper.make_node("Identity", ["ones1"], ["out_celeb_face_mask:0"]))
    outputs = [helper.make_tensor_value_info("out_face_mask:0", tp.FLOAT, [batch, resolution, resolution, 1]),
               helper.make_tensor_value_info("out_celeb_face:0", tp.FLOAT, [batch, resolution, resolution, 3]),
               helper.make_tensor_value_info("out_celeb_face_mask:0", tp.FLOAT, [batch, resolution, resolution, 1])]
    graph = helper.make_graph(nodes, "dfm", inputs, outputs, initializer=inits)
    return _save(graph, path, opset=12)
