"""Several people, each with their own source photo (issue 18): `--map WHERE=PHOTO`, the rule
following its person through a crossing, bad rules refused, `--source-face largest`."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.errors import SettingsError
from realtime.settings import Settings, spec
from tests.conftest import ListSource, media, one_line_error, run_cli, unaltered


def _two(tmp_path, frames: int = 1):
    from benchmarks.mapping_clips import compose

    media("d9.mp4")
    media("d10.mp4")
    return compose("two", frames=frames)


def run_engine(frames, fps=30.0, **changes) -> list:
    from realtime.engine import Engine

    kept: list = []

    class Keep:
        name = "keep"
        live = False

        def write(self, frame):
            kept.append(frame)

        def close(self):
            pass

    settings = Settings().replace(outputs=("null",), max_faces=4, **changes)
    engine = Engine(settings, source=ListSource(frames, fps=fps), outputs=[Keep()])
    engine.start()
    engine.wait(300)
    engine.stop()
    if engine.failure is not None:
        raise engine.failure
    return kept


def test_two_faces_two_sources_each_face_wears_its_own(tmp_path):
    """Left person mapped to Einstein, right person to the woman's photo: each face looks like
    the run where everybody wears that photo, not like the other photo."""
    clip = _two(tmp_path, frames=2)
    einstein, woman = str(media("s12.jpg")), str(media("s42.jpg"))
    mapped = run_engine(clip.frames, source=einstein, face_map=(f"left={einstein}", f"right={woman}"))
    all_einstein = run_engine(clip.frames, source=einstein)
    all_woman = run_engine(clip.frames, source=woman)
    # The face tiles (benchmarks/mapping_clips.py): left centred at x=120, right at 360.
    left, right = np.s_[60:180, 70:170], np.s_[60:180, 310:410]
    last = -1

    def diff(a, b, where):
        return float(np.abs(a[last].result[where].astype(int) - b[last].result[where].astype(int)).mean())

    print(f"\nleft: {diff(mapped, all_einstein, left):.1f} from Einstein, {diff(mapped, all_woman, left):.1f} "
          f"from the woman; right: {diff(mapped, all_woman, right):.1f} / {diff(mapped, all_einstein, right):.1f}")
    assert diff(all_einstein, all_woman, left) > 4  # the two photos give visibly different faces
    assert diff(mapped, all_einstein, left) < 0.3 * diff(mapped, all_woman, left)
    assert diff(mapped, all_woman, right) < 0.3 * diff(mapped, all_einstein, right)
    names = sorted((box[0], name) for box, name, _, _ in mapped[last].mapping)
    assert [name for _, name in names] == ["s12", "s42"]


def test_mapping_survives_a_crossing():
    """Two people cross, one hidden behind the other for a while: each keeps their photo in
    every frame (the tracker's ids alone would lose it when the hidden face is found again)."""
    from benchmarks.face_mapping import run_clip
    from benchmarks.mapping_clips import compose

    root = media("d9.mp4").parent
    media("s12.jpg")
    clip = compose("behind", root, frames=80)
    result, _ = run_clip(clip, root)
    print("\n", result)
    assert result["frames_with_faces"] >= 75
    assert result["mapping_kept_pct"] >= 99.0
    assert result["track_ids_only_kept_pct"] < 95.0  # the crossing really breaks the track


def test_a_face_that_leaves_and_returns_keeps_its_photo():
    from benchmarks.face_mapping import run_clip
    from benchmarks.mapping_clips import compose

    root = media("d9.mp4").parent
    media("s42.jpg")
    clip = compose("leave", root, frames=120)
    result, _ = run_clip(clip, root)
    print("\n", result)
    assert result["mapping_kept_pct"] >= 99.0
    assert result["track_ids_only_kept_pct"] < 95.0


@pytest.mark.parametrize("rule, words", [
    ("nothing", ["WHERE=PHOTO", "nothing"]),
    ("upstairs=a.jpg", ["WHERE=PHOTO", "upstairs"]),
    ("1.5,0.5=a.jpg", ["outside the frame"]),
])
def test_malformed_map_is_refused_in_one_line(rule, words):
    one_line_error(run_cli("run", "--input", "demo", "-o", "null", "--map", rule), *words)


def test_map_photo_missing_is_refused_in_one_line(tmp_path):
    missing = tmp_path / "alice.jpg"
    one_line_error(run_cli("run", "--input", "demo", "-o", "null", "--map", f"left={missing}"),
                   "alice.jpg", "not found")


def test_a_reference_picture_without_a_face_is_refused_before_the_run(tmp_path):
    from realtime.engine import Engine
    from realtime.errors import NoFaceError

    wall = tmp_path / "wall.png"
    cv2.imwrite(str(wall), np.full((200, 200, 3), 128, np.uint8))
    engine = Engine(Settings().replace(outputs=("null",), face_map=(f"{wall}={media('s42.jpg')}",)),
                    source=ListSource([np.full((240, 320, 3), 100, np.uint8)]), outputs=[])
    with pytest.raises(NoFaceError, match="face map .*no face found.*wall.png"):
        engine.start()
    engine.stop()


def test_map_setting_parses_and_round_trips_through_toml(tmp_path):
    declared = spec("face_map")
    rules = declared.parse("left=a.jpg; 0.25,0.5=b.jpg")
    assert rules == ("left=a.jpg", "0.25,0.5=b.jpg")
    assert declared.parse(declared.format(rules)) == rules
    settings = Settings().replace(face_map=rules, unmapped_faces="keep")
    settings.save(tmp_path / "s.toml")
    assert Settings.load(tmp_path / "s.toml").swap.face_map == rules
    with pytest.raises(SettingsError, match="WHERE=PHOTO"):
        Settings().replace(face_map=("a.jpg",))


def test_source_face_takes_largest_or_a_number():
    declared = spec("source_face")
    assert Settings().replace(source_face=declared.parse("largest")).swap.source_face == "largest"
    assert Settings().replace(source_face=declared.parse("2")).swap.source_face == 2
    with pytest.raises(SettingsError, match="largest"):
        Settings().replace(source_face=declared.parse("biggest"))
    with pytest.raises(SettingsError, match="largest"):
        Settings().replace(source_face=17)


def test_unmapped_faces_keep_their_own_face(tmp_path):
    """Only the left person is mapped; with unmapped_faces = keep the right one is untouched."""
    clip = _two(tmp_path, frames=3)
    einstein = str(media("s12.jpg"))
    out = run_engine(clip.frames, source=einstein, face_map=(f"left={einstein}",), unmapped_faces="keep")
    right = np.s_[40:200, 280:440]
    left = np.s_[60:180, 70:170]
    assert unaltered(out[-1].result[right], clip.frames[out[-1].index][right])
    assert np.abs(out[-1].result[left].astype(int) - clip.frames[out[-1].index][left].astype(int)).mean() > 4


def test_a_reference_photo_picks_the_person_who_looks_like_it(tmp_path):
    """`REFERENCE=PHOTO`: a picture of the right-hand person (another moment of their video) gives
    them the photo, wherever they stand; the left person wears the main source."""
    from benchmarks.mapping_clips import _tiles

    clip = _two(tmp_path, frames=3)
    reference = tmp_path / "her.png"
    tile = _tiles(media("d10.mp4").parent, "d10.mp4", 200)[-1]
    cv2.imwrite(str(reference), cv2.resize(tile, (352, 352), interpolation=cv2.INTER_CUBIC))
    einstein, woman = str(media("s12.jpg")), str(media("s42.jpg"))
    out = run_engine(clip.frames, source=einstein, face_map=(f"{reference}={woman}",))
    names = sorted((box[0], name) for box, name, _, _ in out[-1].mapping)
    assert [name for _, name in names] == ["s12", "s42"]


def test_a_face_half_hidden_behind_another_is_not_painted_over_it():
    """Two overlapping faces: the layer of the one behind (smaller) loses the area of the nearer
    person's head, so a half-hidden face's swap never covers the face in front of it."""
    from realtime.frame import Face, FaceLayer
    from realtime.swap.stage import clip_hidden_faces

    def face(cx, cy, radius):
        angles = np.linspace(0, 2 * np.pi, 478, endpoint=False)
        landmarks = np.stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles),
                              np.zeros(478)], axis=1).astype(np.float32)
        box = (int(cx - radius), int(cy - radius), int(cx + radius), int(cy + radius))
        return Face(landmarks=landmarks, box=box)

    behind, front = face(60, 60, 40), face(110, 110, 50)  # the front face is larger and lower

    def layer(f):
        x0, y0, x1, y1 = f.box
        return FaceLayer(box=f.box, image=np.zeros((y1 - y0, x1 - x0, 3), np.uint8),
                         alpha=np.ones((y1 - y0, x1 - x0), np.float32), face=f)

    back_layer, front_layer = clip_hidden_faces([layer(behind), layer(front)])
    assert back_layer.alpha[95 - 20, 95 - 20] < 0.05  # (95, 95): inside the front face
    assert back_layer.alpha[40 - 20, 40 - 20] > 0.99  # (40, 40): the back face's own, uncovered
    assert front_layer.alpha.min() == 1.0  # the face in front is untouched


def test_engine_set_face_source_maps_the_face_there_and_refuses_a_bad_photo(tmp_path):
    from realtime.engine import Engine
    from realtime.errors import FacecamError, InputError

    clip = _two(tmp_path, frames=2)
    einstein, woman = str(media("s12.jpg")), str(media("s42.jpg"))
    engine = Engine(Settings().replace(outputs=("null",), max_faces=4, source=einstein),
                    source=ListSource(clip.frames, fps=30.0), outputs=[])
    engine.start()
    try:
        engine.wait(120)
        with pytest.raises(FacecamError, match="nope.jpg"):
            engine.set_face_source(0.75, 0.5, str(tmp_path / "nope.jpg"))
        assert engine.settings.swap.face_map == ()  # refused: nothing changed
        with pytest.raises(InputError, match="no face"):
            engine.set_face_source(0.5, 0.05, woman)
        settings = engine.set_face_source(0.75, 0.5, woman)
        (rule,) = settings.swap.face_map
        assert rule.endswith("=" + woman) and float(rule.split(":")[0]) > 0.5
    finally:
        engine.stop()


def test_a_rule_that_never_finds_its_person_is_said_once(caplog):
    """A reference picture of nobody in the video: after UNUSED_WARNING_FRAMES frames with
    faces, one warning names the rule; the faces keep what unmapped faces get."""
    import logging

    from realtime.faces.mapping import UNUSED_WARNING_FRAMES, FaceMapper, parse_rules, signature
    from realtime.faces.source import SourceLibrary

    clip_root = media("d9.mp4").parent
    library = SourceLibrary()
    try:
        stranger = library.get(str(clip_root / "s6.jpg"))  # a terracotta statue
        frame = library.get(str(clip_root / "s42.jpg"))  # the "video": a woman's photo
        mapper = FaceMapper()
        mapper.configure(parse_rules((f"{clip_root / 's6.jpg'}=x.jpg",)),
                         {str(clip_root / "s6.jpg"): signature(stranger.image, stranger.face)})
        with caplog.at_level(logging.WARNING, logger="realtime.faces.mapping"):
            for _ in range(UNUSED_WARNING_FRAMES + 5):
                assert mapper.assign(frame.image, [frame.face]) == [None]
        warnings = [r for r in caplog.records if "face map" in r.getMessage()]
        assert len(warnings) == 1 and "no face looked like" in warnings[0].getMessage()
    finally:
        library.close()
