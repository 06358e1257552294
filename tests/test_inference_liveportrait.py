"""The LivePortrait animator with ONNX stand-ins of the FaceFusion set (no download)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from realtime.animate.liveportrait import LivePortraitAnimator, rotation
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.inference import standins
from realtime.inference.errors import ModelMissingError
from realtime.inference.manifest import load_manifest
from realtime.inference.store import ModelStore
from realtime.settings import Settings

pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def source():
    library = SourceLibrary()
    yield library.get(None)
    library.close()


def _store(folder):
    real = load_manifest()
    paths = standins.liveportrait_set(folder)
    return ModelStore(folder, {name: dataclasses.replace(real[name], sha256=None, size=None)
                               for name in paths})


def test_missing_set_names_one_fetch_command(tmp_path):
    with pytest.raises(ModelMissingError, match="facecam models fetch liveportrait"):
        LivePortraitAnimator(Settings(), store=ModelStore(tmp_path, load_manifest()))


def test_rotation_matches_liveportrait_convention():
    np.testing.assert_allclose(rotation(0, 0, 0), np.eye(3), atol=1e-7)
    r = rotation(10, -20, 30)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-6)
    # applied as kp @ R (row vectors), R = (Rz Ry Rx)^T: the same as Ry @ kp for a column vector
    np.testing.assert_allclose(np.array([1.0, 0, 0]) @ rotation(0, 90, 0), [0, 0, -1], atol=1e-6)


def test_animates_relative_to_reference_and_features_once(tmp_path, source):
    animator = LivePortraitAnimator(Settings(), store=_store(tmp_path))
    extractor = animator.sessions["liveportrait_feature_extractor"]
    calls = []
    original_run = extractor.run
    extractor.run = lambda feeds, **kw: calls.append(1) or original_run(feeds, **kw)
    animator.set_source(source)
    portrait = source.image
    face = source.face
    first = animator.animate(Frame(0, portrait, 0), [face])
    assert first.shape == portrait.shape and first.dtype == np.uint8
    again = animator.animate(Frame(1, portrait, 0), [face])
    np.testing.assert_array_equal(first, again)  # no motion since the reference: same picture
    brighter = np.clip(portrait.astype(np.int16) + 60, 0, 255).astype(np.uint8)
    moved = animator.animate(Frame(2, brighter, 0), [face])  # the stand-in reads "yaw" from colour
    changed = np.abs(moved.astype(np.int16) - first).max(axis=2)
    assert (changed > 5).sum() > 1000  # the face region was re-rendered
    # far from the face the portrait is untouched
    assert np.array_equal(moved[:5, :5], portrait[:5, :5])
    # nobody in front of the camera: the last animated picture is held
    np.testing.assert_array_equal(animator.animate(Frame(3, brighter, 0), []), moved)
    # recalibration: the brighter frame becomes neutral
    animator.configure(Settings().replace(calibration=1))
    # (To the last bit on session 37's machine; on an AMD EPYC without AVX-512, ONNX Runtime's
    # kernels round 40 of 921600 values 1 level apart: neutral again is what is asserted.)
    neutral = np.abs(animator.animate(Frame(4, brighter, 0), [face]).astype(np.int16) - first)
    assert neutral.max() <= 1 and (neutral > 0).mean() < 0.001
    assert len(calls) == 1  # appearance features once per portrait
