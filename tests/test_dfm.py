"""DeepFaceLab models live (`swapper = "dfm"`), with stand-ins of the exact .dfm contract."""

from __future__ import annotations

import json

import cv2
import pytest

from realtime.blend.composite import composite
from realtime.faces.dlib68 import landmarks68
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.inference import standins
from realtime.inference.errors import ModelMismatchError, ModelMissingError
from realtime.settings import Settings
from realtime.swap.dfm import DFMSwapper, transform_matrix
from tests.conftest import MEDIA, psnr, run_cli

pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def source():
    library = SourceLibrary()
    yield library.get(None)
    library.close()


def _settings(folder, **swap):
    return Settings().replace(swapper="dfm", models_dir=str(folder), device="cpu", **swap)


def test_alignment_is_deepfacelabs(source):
    """get_transform_mat: the eyes level and the face centred for every face type; the looser
    types show more around the face (padding 0 < 0.0675 < 0.21 < 0.40 < 0.70)."""
    points = landmarks68(source.face.landmarks)
    spans = []
    for face_type in ("half_face", "midfull_face", "full_face", "whole_face", "head"):
        matrix = transform_matrix(points, 256, face_type)
        inside = points @ matrix[:, :2].T + matrix[:, 2]
        left, right = inside[36:42].mean(axis=0), inside[42:48].mean(axis=0)
        assert abs(left[1] - right[1]) < 0.03 * (right[0] - left[0])
        assert left[0] < right[0]  # not mirrored
        spans.append(right[0] - left[0])
    assert spans == sorted(spans, reverse=True)


@pytest.mark.parametrize("face_type", ["full_face", "whole_face"])
def test_identity_dfm_reproduces_the_face_through_align_and_paste_back(tmp_path, source, face_type):
    standins.dfm(tmp_path / "identity.dfm", resolution=320)
    swapper = DFMSwapper(_settings(tmp_path, dfm_model="identity", dfm_face_type=face_type))
    assert swapper.resolution == 320 and swapper.morph_input is None
    image = source.image
    (layer,) = swapper.swap(Frame(0, image, 0), [source.face])
    x0, y0, x1, y1 = layer.box
    inside = layer.alpha > 0.5
    assert inside.mean() > 0.3
    assert psnr(layer.image, image[y0:y1, x0:x1], inside) >= 35.0
    canvas = image.copy()
    composite(canvas, layer, layer.image)
    assert psnr(canvas[y0:y1, x0:x1], image[y0:y1, x0:x1]) >= 35.0


def test_model_masks_are_combined_with_ours(tmp_path, source):
    standins.dfm(tmp_path / "disc.dfm", resolution=256, mask="disc")
    standins.dfm(tmp_path / "full.dfm", resolution=256)
    frame = Frame(0, source.image, 0)
    (disc,) = DFMSwapper(_settings(tmp_path, dfm_model="disc")).swap(frame, [source.face])
    (full,) = DFMSwapper(_settings(tmp_path, dfm_model="full")).swap(frame, [source.face])
    assert (disc.alpha <= full.alpha + 1e-5).all()
    assert (disc.alpha > 0.5).sum() < 0.9 * (full.alpha > 0.5).sum()


def test_amp_model_gets_the_morph_value(tmp_path, source):
    standins.dfm(tmp_path / "amp.dfm", resolution=224, morph=True)
    frame = Frame(0, source.image, 0)
    swapper = DFMSwapper(_settings(tmp_path, dfm_model=str(tmp_path / "amp.dfm"), morph=0.0))
    assert swapper.morph_input == "morph_value:0"
    (plain,) = swapper.swap(frame, [source.face])
    swapper.configure(_settings(tmp_path, dfm_model="amp", morph=1.0))
    (morphed,) = swapper.swap(frame, [source.face])
    inside = plain.alpha > 0.5
    ratio = morphed.image[inside].mean() / plain.image[inside].mean()
    assert ratio == pytest.approx(0.5, abs=0.03)  # the stand-in darkens by 0.5 x morph


def test_missing_or_wrong_dfm_is_one_clear_line(tmp_path):
    with pytest.raises(ModelMissingError, match="dfm_model"):
        DFMSwapper(_settings(tmp_path))
    standins.dfm(tmp_path / "there.dfm", resolution=64)
    with pytest.raises(ModelMissingError, match="available: there.dfm"):
        DFMSwapper(_settings(tmp_path, dfm_model="elsewhere"))
    standins.identity_swapper(tmp_path / "not_a.dfm")
    with pytest.raises(ModelMismatchError, match="not a DeepFaceLab"):
        DFMSwapper(_settings(tmp_path, dfm_model="not_a"))


def test_models_list_shows_dfm_files(tmp_path):
    standins.dfm(tmp_path / "Celeb_A.dfm", resolution=64)
    result = run_cli("models", "list", timeout=60, env={"FACECAM_MODELS": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("Celeb_A ")]
    assert "downloaded" in line and "DeepFaceLab" in line


def test_cli_runs_a_dfm_end_to_end_on_a_real_video(tmp_path):
    media = MEDIA / "d9.mp4"
    if not media.exists():
        pytest.skip("../shared/media/d9.mp4 is not here")
    models = tmp_path / "models"
    standins.dfm(models / "identity.dfm", resolution=224)
    config = tmp_path / "dfm.toml"
    config.write_text('[swap]\ndfm_model = "identity"\n', encoding="utf-8")
    out = tmp_path / "dfm.mp4"
    result = run_cli("run", "--swapper", "dfm", "--config", str(config), "--device", "cpu",
                     "--input", str(media), "--max-frames", "12", "--no-live", "-o", str(out), "--json",
                     timeout=240, env={"FACECAM_MODELS": str(models)})
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["frames_out"] == 12 and not stats["errors"], stats
    assert "running on CPUExecutionProvider" in result.stderr
    capture = cv2.VideoCapture(str(out))
    ok, picture = capture.read()
    capture.release()
    assert ok and picture.shape[0] > 0
