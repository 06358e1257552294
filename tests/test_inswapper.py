"""The neural swapper with ONNX stand-ins of the real interfaces (no download)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from realtime.blend.composite import composite
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.inference import standins
from realtime.inference.align import arcface_template, similarity_matrix
from realtime.inference.errors import ModelMissingError
from realtime.inference.manifest import DEFAULT_MANIFEST, load_manifest
from realtime.inference.store import ModelStore
from realtime.settings import Settings
from realtime.swap.inswapper import InswapperSwapper, read_emap
from tests.conftest import psnr, run_cli

pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def source():
    library = SourceLibrary()
    yield library.get(None)  # the built-in face: no media needed
    library.close()


def _store(folder, batch=1, enhancer=False):
    real = load_manifest()
    files = {"inswapper_128": standins.identity_swapper(folder / "inswapper_128.onnx", batch=batch),
             "w600k_r50": standins.recogniser(folder / "w600k_r50.onnx")}
    if enhancer:
        files["gfpgan_1_4"] = standins.enhancer(folder / "gfpgan_1.4.onnx")
    # the real catalogue's names and shapes, without the real hashes/sizes (trust on first use)
    specs = {name: dataclasses.replace(real[name], sha256=None, size=None) for name in files}
    return ModelStore(folder, specs)


def _scaled(source, eye_distance=38.0):
    """The built-in face scaled so that it needs no resampling to the 128 px template
    (eye distance ~ the template's), and its face at that scale."""
    points = source.face.landmarks
    current = float(np.linalg.norm(points[468, :2] - points[473, :2]))
    factor = eye_distance / current
    import cv2

    image = cv2.resize(source.image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    face = dataclasses.replace(source.face, landmarks=source.face.landmarks * np.float32(factor),
                               box=tuple(int(round(v * factor)) for v in source.face.box))
    return image, face


def test_template_alignment_is_exact_for_template_points():
    template = arcface_template(128)
    assert template[0, 0] == pytest.approx(38.2946 + 8.0)  # InsightFace's 128 px shift
    rotation = np.array([[0.8, -0.6], [0.6, 0.8]])
    points = template @ rotation.T * 2.5 + [40, 70]
    matrix = similarity_matrix(points, template)
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(mapped, template, atol=1e-3)


def test_emap_is_the_last_initializer(tmp_path):
    path = standins.identity_swapper(tmp_path / "s.onnx", emap_seed=7)
    expected = np.random.default_rng(7).standard_normal((512, 512)).astype(np.float32)
    np.testing.assert_array_equal(read_emap(path), expected)


def test_missing_model_names_the_fetch_command(tmp_path):
    store = ModelStore(tmp_path, load_manifest())
    with pytest.raises(ModelMissingError, match="facecam models fetch inswapper_128"):
        InswapperSwapper(Settings(), store=store)


@pytest.mark.parametrize("batch", [1, "N"])
def test_identity_swapper_reproduces_the_frame(tmp_path, source, batch):
    image, face = _scaled(source)
    # two faces side by side: batched in one run ("N") or one run each (fixed batch of 1)
    frame_image = np.ascontiguousarray(np.hstack([image, image]))
    shifted = dataclasses.replace(face, landmarks=face.landmarks + np.float32([image.shape[1], 0, 0]),
                                  box=(face.box[0] + image.shape[1], face.box[1],
                                       face.box[2] + image.shape[1], face.box[3]), track_id=1)
    settings = Settings()
    swapper = InswapperSwapper(settings, store=_store(tmp_path, batch=batch))
    assert swapper.batched == (batch == "N")
    swapper.set_source(source)
    frame = Frame(index=0, image=frame_image, capture_ns=0)
    layers = swapper.swap(frame, [face, shifted])
    assert len(layers) == 2
    canvas = frame_image.copy()
    for layer in layers:
        x0, y0, x1, y1 = layer.box
        inside = layer.alpha > 0.5
        assert inside.mean() > 0.3  # the mask covers the face, not a sliver
        original = frame_image[y0:y1, x0:x1]
        assert psnr(layer.image, original, inside) >= 35.0
        composite(canvas, layer, layer.image)
        assert psnr(canvas[y0:y1, x0:x1], original) >= 35.0


def test_source_latent_is_normalised_embedding_times_emap(tmp_path, source):
    swapper = InswapperSwapper(Settings(), store=_store(tmp_path))
    swapper.set_source(source)
    embedding = swapper.embedding(source.image, source.face)
    expected = embedding[None] @ swapper.emap
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(swapper._latent, expected, rtol=1e-4, atol=1e-6)
    assert np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-5)


def test_enhancer_every_nth_frame_reuses_its_correction(tmp_path, source):
    image, face = _scaled(source, eye_distance=60.0)
    settings = Settings().replace(enhancer="gfpgan", enhance_every=3)
    swapper = InswapperSwapper(settings, store=_store(tmp_path, enhancer=True))
    swapper.set_source(source)
    frame = Frame(index=0, image=image, capture_ns=0)
    plain = InswapperSwapper(Settings(), store=_store(tmp_path / "plain"))
    plain.set_source(source)
    base = plain.swap(frame, [face])[0]
    for index in range(4):
        layer = swapper.swap(Frame(index=index, image=image, capture_ns=0), [face])[0]
        inside = layer.alpha > 0.5
        # the stand-in enhancer lifts every value by 0.1 in [-1, 1]: ~ +12.75 levels
        lift = float((layer.image.astype(np.float32) - base.image)[inside].mean())
        assert 8.0 < lift < 16.0
    assert swapper.enhancer.runs == 2  # frames 0 and 3


def _standin_folder(folder):
    """A model folder with stand-ins under the real file names and its own catalogue."""
    standins.identity_swapper(folder / "inswapper_128.onnx", batch="N")
    standins.recogniser(folder / "w600k_r50.onnx")
    standins.enhancer(folder / "gfpgan_1.4.onnx")
    standins.liveportrait_set(folder)
    text = DEFAULT_MANIFEST.read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines()
                     if not line.startswith(("sha256", "size")))  # trust on first use
    (folder / "manifest.toml").write_text(text, encoding="utf-8")


def test_cli_runs_neural_swap_enhance_and_animate(tmp_path):
    models = tmp_path / "models"
    _standin_folder(models)
    env = {"FACECAM_MODELS": str(models)}
    swap = run_cli("run", "--swapper", "inswapper", "--enhance", "gfpgan", "--enhance-every", "2",
                   "--device", "cpu", "--input", "demo", "--max-frames", "4", "--no-live",
                   "-o", str(tmp_path / "swap.mp4"), "--json", timeout=240, env=env)
    assert swap.returncode == 0, swap.stderr
    stats = json.loads(swap.stdout)
    assert stats["frames_out"] == 4 and not stats["errors"], stats
    assert "running on CPUExecutionProvider" in swap.stderr
    # The stats (GUI panel, --json) name the provider really running the three models.
    assert "provider: CPU (3 model(s))" in stats["notes"], stats["notes"]
    animate = run_cli("run", "--mode", "animate", "--animator", "liveportrait", "--device", "cpu",
                      "--input", "demo", "--max-frames", "3", "--no-live", "-o", "null", "--json",
                      timeout=240, env=env)
    assert animate.returncode == 0, animate.stderr
    stats = json.loads(animate.stdout)
    assert stats["frames_out"] == 3 and not stats["errors"], stats
    assert any(note.startswith("provider: CPU") for note in stats["notes"]), stats["notes"]


def test_enhancer_switches_on_and_off_live(tmp_path, source):
    swapper = InswapperSwapper(Settings(), store=_store(tmp_path, enhancer=True))
    swapper.set_source(source)
    assert swapper.enhancer is None
    swapper.configure(Settings().replace(enhancer="gfpgan", enhance_every=2))
    assert swapper.enhancer is not None and swapper.enhancer.every == 2
    swapper.configure(Settings())
    assert swapper.enhancer is None and swapper._latent is not None
