"""The blind check shows each scene once: a judge who sees a swap and the untouched crop of the
same room and person finds the fake by comparing the two (session 25's judge: "the less damaged
crop of each set was usually the real one")."""

from __future__ import annotations

from collections import Counter

from benchmarks.blind_check import CAMERA, SCENE_SWAPS, scenes_once


def test_each_scene_is_shown_once_swapped_or_untouched():
    drawn = [scenes_once(list(SCENE_SWAPS), list(CAMERA), seed) for seed in range(40)]
    for clips in drawn:
        targets = Counter(target for _, target in clips)
        assert set(targets) == set(CAMERA) and set(targets.values()) == {1}, clips
        fakes = [(source, target) for source, target in clips if source is not None]
        assert 2 <= len(fakes) <= 5
        assert all(f"{source}:{target}" in SCENE_SWAPS for source, target in fakes)
    assert drawn[7] == scenes_once(list(SCENE_SWAPS), list(CAMERA), 7)  # the seed decides, nothing else
    # Over seeds every scene is sometimes the fake, sometimes not; d20's two swaps both come up.
    for target in CAMERA:
        kinds = {source is None for clips in drawn for source, name in clips if name == target}
        assert kinds == {True, False}, target
    assert {source for clips in drawn for source, name in clips if name == "d20"} >= {"s9", "s42", None}
