"""The swap quality benchmark: its metrics measure what they claim, and a tiny run on the real
media produces the results files with every method side by side."""

import argparse
import json

import numpy as np
import pytest

from benchmarks import quality_swap
from benchmarks.quality_swap import POINTS_68, background_mask, inter_ocular, jitter


def face_points(shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    points = rng.uniform(100, 200, (478, 3)).astype(np.float32)
    points[33, :2] = (120, 140)
    points[263, :2] = (180, 140)  # outer eye corners 60 px apart
    points[:, 0] += shift
    return points


def test_the_68_points_are_distinct_mesh_points():
    assert len(POINTS_68) == 68 and len(set(POINTS_68.tolist())) == 68
    assert POINTS_68.max() < 468
    assert inter_ocular(face_points()) == pytest.approx(60.0)


def test_jitter_is_zero_for_steady_motion_and_grows_with_noise():
    steady = [face_points(shift=3.0 * t) for t in range(10)]  # constant velocity: no jitter
    assert jitter(steady) == pytest.approx(0.0, abs=1e-6)
    rng = np.random.default_rng(1)
    shaky = [p + rng.normal(0, 1.0, p.shape).astype(np.float32) for p in steady]
    shakier = [p + rng.normal(0, 3.0, p.shape).astype(np.float32) for p in steady]
    assert 0 < jitter(shaky) < jitter(shakier)
    # Frames without a face are skipped, not counted as motion.
    assert np.isfinite(jitter([steady[0], None, *steady[1:]]))


def test_background_mask_leaves_out_the_enlarged_face():
    points = face_points()
    mask = background_mask(points, (300, 300, 3))
    assert not mask[150, 150]  # inside the face
    assert mask[5, 5] and mask[295, 295]  # far outside
    xs = points[:468, 0]
    # Enlarged: a little beyond the outermost landmark is still "face".
    assert not mask[150, int(xs.max()) + 5]


def test_a_tiny_run_writes_every_method_side_by_side(tmp_path, media_path):
    pytest.importorskip("dlib", reason="the identity model needs the eval extra")
    media_path("s42.jpg")
    media = media_path("d9.mp4").parent
    parser = argparse.ArgumentParser()
    quality_swap.add_arguments(parser)
    args = parser.parse_args(["--sources", "s42.jpg", "--targets", "d9.mp4", "--frames", "6",
                              "--identity-every", "3", "--media", str(media), "--out", str(tmp_path),
                              "--json"])
    assert quality_swap.run(args) == 0
    report = json.loads((tmp_path / "quality_swap_inprocess.json").read_text())
    rows = {p["method"]: p for p in report["pairs"]}
    assert set(rows) == {"mesh", "skeleton", "affine", "unchanged"}
    # The floor and the ceiling: the unchanged target is the target (identity retrieval 0,
    # no landmark error); the swap wears the source.
    assert rows["unchanged"]["identity_retrieval"] == 0.0
    assert rows["unchanged"]["landmark_error"] == 0.0
    assert rows["mesh"]["identity_retrieval"] == 1.0
    assert rows["mesh"]["distance_to_source"] < rows["unchanged"]["distance_to_source"]
    assert rows["mesh"]["landmark_error"] < rows["affine"]["landmark_error"]
    assert rows["mesh"]["background_psnr_db"] >= 50
    assert (tmp_path / "quality_swap_inprocess.md").read_text().startswith("# Swap quality")


def test_missing_media_is_a_clear_error(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    quality_swap.add_arguments(parser)
    args = parser.parse_args(["--media", str(tmp_path), "--out", str(tmp_path)])
    assert quality_swap.run(args) == 2
    assert "not in" in capsys.readouterr().err
