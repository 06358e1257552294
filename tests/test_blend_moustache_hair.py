"""A source's moustache keeps its hair strands on the target (issue 13).

s12 (young Einstein) has a dark moustache whose strands the clean texture keeps (0.9-1.0 of the
photo's finest band, benchmarks/results/s21-s12). The blend stage's camera detail
(realtime/blend/detail.py, camera_detail) exchanged the new face's finest band for the target
camera's skin grain everywhere but the brows and lids, so on d14 and d9 the moustache came out a
smooth dark mass, "a painted patch". Now the new face's facial hair keeps its own band
(realtime/faces/brows.py, hair_weight); a clean-shaven source has none. Only as crisply as the
camera draws (brows.hair_gain): on the soft d14 and d20 none of the finest band is kept.

Real frames of ../shared/media, MediaPipe, the real swapper and blend stage (tests/conftest.py's swap_one
fixture). Each number in a comment is the branch start's (the session's integrate tree).
"""

from __future__ import annotations

import cv2
import numpy as np

from benchmarks import realism
from realtime.faces.topology import topology
from realtime.swap.texture import _NOSTRILS
from tests.conftest import frame_of

_CHEEKS = (50, 280, 118, 347)


def _upper_lip(shape: tuple[int, ...], points: np.ndarray) -> np.ndarray:
    """bool (h, w): between the nostrils and the lips (their hull, the lips left out)."""
    top = topology()
    zone = np.zeros(shape[:2], np.uint8)
    around = np.concatenate([points[list(_NOSTRILS), :2], points[top.outer_lips, :2]])
    cv2.fillConvexPoly(zone, cv2.convexHull(np.round(around).astype(np.int32)), 1)
    cv2.fillPoly(zone, [np.round(points[top.outer_lips, :2]).astype(np.int32)], 0)
    return zone > 0


def _hair_texture(image: np.ndarray, points: np.ndarray, sigma: float) -> float:
    """The finest band's RMS (below a Gaussian of `sigma` px) over the moustache's dark hair
    between the nostrils and the lips, over the hair's contrast against the cheeks (so a photo
    and a recoloured frame compare)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    skin = float(np.median([grey[int(points[p, 1]), int(points[p, 0])] for p in _CHEEKS]))
    hair = _upper_lip(image.shape, points) & (grey < 0.55 * skin)
    assert hair.sum() > 300, hair.sum()
    band = grey - cv2.GaussianBlur(grey, (0, 0), sigma)
    return float(np.sqrt(np.mean(band[hair] ** 2))) / (skin - float(np.median(grey[hair])))


def _kept(swap_one, library, video: str) -> float:
    """The moustache's finest band below 1 target pixel on `video` (s12, frame 12), against the
    photo's band at the same size on the face."""
    from tests.conftest import media

    photo = library.get(str(media("s12.jpg")))
    _, face, output = swap_one(video, 12, "s12.jpg", moved=True)
    scale = face.size / photo.face.size
    return _hair_texture(output, face.landmarks, 1.0) / _hair_texture(photo.image, photo.face.landmarks, 1.0 / scale)


def test_a_moustache_keeps_its_hair_strands_on_the_target(swap_one, library):
    # d9, a crisp camera: start 0.48 of the photo's (the camera's smooth skin grain instead); now
    # 0.85 (the photo's strands enlarged ~1.85x keep less below 1 px).
    kept = _kept(swap_one, library, "d9.mp4")
    assert kept >= 0.75, kept


def _strands_kept(swap_one, library, frame: int) -> float:
    """s12 worn on d9's `frame`: the moustache's band below 1 photo pixel over the photo's own at that size."""
    from tests.conftest import media

    photo = library.get(str(media("s12.jpg")))
    _, face, output = swap_one("d9.mp4", frame, "s12.jpg", moved=True)
    scale = face.size / photo.face.size
    return _hair_texture(output, face.landmarks, scale) / _hair_texture(photo.image, photo.face.landmarks, 1.0)


def test_a_moustache_is_worn_with_the_strands_its_photo_has_at_that_size(swap_one, library):
    # s12's strands are 1-2 photo pixels, enlarged 1.86x onto d9: drawn through the mesh bilinear,
    # the band below 1 photo pixel (over the hair's contrast) came out 0.80 of the photo's own,
    # "a blurry smeared moustache with no hair detail" (the blind judge, session 29); the hair is
    # drawn bicubic now (swap/mesh.py, _draw_hair): 0.94 (benchmarks/results/s30-moustache).
    kept = _strands_kept(swap_one, library, 12)
    assert kept >= 0.88, kept


def test_a_moustache_worn_deeper_keeps_its_strands_later_in_the_clip(swap_one, library):
    # The same reading on d9's frame 40. The colour transfer's statistics over the skin without
    # the moustache (color.skin_statistics) wear it deeper, which the finest-band match over the
    # whole face (detail.fine_match_gain) read as more fine detail and took down, strands
    # included: 0.796 of the photo's (s34-lead 0.869), a flatter dark mass. Now the hair is
    # matched at the gain read without it, the skin as before: 0.851 (benchmarks/results/s34-strands).
    kept = _strands_kept(swap_one, library, 40)
    assert kept >= 0.83, kept


def test_a_moustache_is_no_crisper_than_a_soft_camera_draws(swap_one, library):
    # d14 is a soft video (its face's finest band over the next one, "drawn as sharply", 0.64-0.69
    # of s12's hair's, brows.hair_gain): the strands kept as the photo draws them (s21-hair) were a
    # crisp dark patch on a blurry face, 1.14 of the photo's band and 2.16x the camera's
    # sharpness over the face (start 0.58 and 1.57). Above the split the face keeps its own band.
    kept = _kept(swap_one, library, "d14.mp4")
    assert kept <= 0.7, kept
    image, face, output = swap_one("d14.mp4", 12, "s12.jpg")
    ratio = realism.sharpness_match(output.astype(np.float32), image.astype(np.float32), face.landmarks)
    assert ratio <= 1.7, ratio


def test_a_clean_shaven_upper_lip_keeps_the_cameras_grain(swap_one, library):
    from realtime.blend.kernels import as_grey
    from realtime.faces import create_detector
    from realtime.faces.brows import hair_weight
    from realtime.frame import Frame
    from realtime.settings import FaceSettings, Settings
    from realtime.swap.mesh import MeshSwapper
    from tests.conftest import media

    image = frame_of("d14.mp4", 12)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = detector.detect(image)
    detector.close()
    found = {}
    for source in ("s42.jpg", "s9.jpg", "s12.jpg"):
        swapper = MeshSwapper(Settings())
        swapper.set_source(library.get(str(media(source))))
        frame = Frame(index=0, image=image, capture_ns=0, pts=0.0)
        frame.faces = faces
        layer = swapper.swap(frame, faces)[0]
        swapper.close()
        found[source] = hair_weight(as_grey(layer.image), layer.alpha, layer.face.landmarks, layer.box,
                                    layer.face.size)
    # Their nostrils and mouth corners are dark too, but no moustache's mass.
    assert found["s42.jpg"] is None and found["s9.jpg"] is None
    assert found["s12.jpg"] is not None and float(found["s12.jpg"][0].max()) > 0.9


def test_the_hair_gain_follows_the_cameras_sharpness():
    from realtime.blend.kernels import gaussian_u8
    from realtime.faces.brows import hair_gain

    # Strands every 4 px drawn crisply; a camera drawing the same lines softly, or as crisply.
    rng = np.random.default_rng(0)
    crisp = np.full((120, 120), 150, np.uint8)
    crisp[:, ::4] = 60
    crisp = cv2.add(crisp, rng.integers(0, 3, crisp.shape, dtype=np.uint8))
    soft = gaussian_u8(crisp, 2.0)
    alpha = np.ones(crisp.shape, np.float32)
    hair = (np.ones((60, 60), np.float32), (30, 90, 30, 90))
    assert hair_gain(crisp, soft, alpha, hair, 1.5) == 0.0
    # Drawn as sharply (ratio 1): 2/3 of the band (all of it from 1.1, HAIR_SHARP_FULL).
    assert 0.5 < hair_gain(crisp, crisp, alpha, hair, 1.5) < 0.8
    assert hair_gain(soft, crisp, alpha, hair, 1.5) == 1.0


def _swapped(library, source: str, pictures: list[np.ndarray], faces: list) -> list[np.ndarray]:
    """The written pictures of one swapper and blend stage over `pictures` (30 fps media time),
    the face of each frame given (`faces[i]`, its track id included)."""
    from realtime.blend.stage import BlendStage
    from realtime.frame import Frame
    from realtime.settings import Settings
    from realtime.swap.mesh import MeshSwapper
    from tests.conftest import media

    settings = Settings()
    swapper, blend = MeshSwapper(settings), BlendStage(settings)
    swapper.set_source(library.get(str(media(source))))
    outputs = []
    for index, (picture, face) in enumerate(zip(pictures, faces, strict=True)):
        frame = Frame(index=index, image=picture, capture_ns=0, pts=index / 30.0)
        frame.faces = [face]
        frame.layers = swapper.swap(frame, [face])
        outputs.append(blend.process(frame).output)
    swapper.close()
    blend.close()
    return outputs


def _moustache_pixels(picture: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The darker half of the zone between the nostrils and the lips (the lips left out)."""
    zone = _upper_lip(picture.shape, points)
    grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    return zone & (grey < np.median(grey[zone]))


def alternating_sharpness(library, video: str, source: str) -> tuple[list[np.ndarray], object]:
    """`source` swapped onto `video`'s frame 12 with every other frame softened (a Gaussian of
    1.5 px), as autofocus hunting or a frame of motion blur does: 10 frames of one face track,
    then the crisp frame as a new track (7). Returns (the 11 outputs, the face)."""
    from dataclasses import replace

    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    crisp = frame_of(video, 12)
    soft = cv2.GaussianBlur(crisp, (0, 0), 1.5)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(crisp)[0]
    detector.close()
    pictures = [crisp, soft] * 5
    return _swapped(library, source, pictures + [crisp], [face] * 10 + [replace(face, track_id=7)]), face


def test_a_moustache_does_not_flicker_on_a_camera_whose_sharpness_alternates(library):
    # d9 (crisp: s12's strands all kept, hair_gain 1) every other frame softened (hair_gain
    # 0.22): the gain was each frame's own, so the moustache's strands came and went every frame
    # (its finest band's RMS 3.07 and 1.5 levels by turns, 2.9 levels of mean change between
    # frames over the hair).
    outputs, face = alternating_sharpness(library, "d9.mp4", "s12.jpg")
    hair = _moustache_pixels(outputs[0], face.landmarks)
    assert hair.sum() > 1000, hair.sum()

    def band(picture: np.ndarray) -> float:
        grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return float(np.sqrt(np.mean((grey - cv2.GaussianBlur(grey, (0, 0), 1.0))[hair] ** 2)))

    greys = [cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).astype(np.float32) for picture in outputs[:10]]
    change = [float(np.mean(np.abs(b - a)[hair])) for a, b in zip(greys, greys[1:], strict=False)]
    assert max(change) < 1.6, change  # 2.9 before (1.1-1.2 now, most of it the camera's own grain)
    bands = [band(picture) for picture in outputs[:10]]
    steps = [max(a, b) / min(a, b) for a, b in zip(bands, bands[1:], strict=False)]
    assert max(steps) < 1.3, bands  # 2.0 before
    # A new face (another track) takes its own camera's sharpness at once, not the last one's.
    assert abs(band(outputs[10]) - bands[0]) < 0.05, (band(outputs[10]), bands[0])


def test_a_clean_shaven_source_pays_for_no_hair_search(library, monkeypatch):
    from realtime.blend import stage
    from realtime.faces import create_detector
    from realtime.faces.brows import hair_weight
    from realtime.settings import FaceSettings

    # Whether the source has a moustache is the photo's (decided once, with its clean texture):
    # s42 and s9 were searched for one on every frame (0.3-0.5 ms each on d14), s12 still is.
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return hair_weight(*args, **kwargs)

    monkeypatch.setattr(stage, "hair_weight", counted)
    pictures = [frame_of("d14.mp4", index) for index in (10, 11, 12)]
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = [detector.detect(picture)[0] for picture in pictures]
    detector.close()
    found = {}
    for source in ("s42.jpg", "s9.jpg", "s12.jpg"):
        calls.clear()
        _swapped(library, source, pictures, faces)
        found[source] = len(calls)
    assert found == {"s42.jpg": 0, "s9.jpg": 0, "s12.jpg": 3}, found  # 3, 3, 3 before


def _darkest_ratio(picture: np.ndarray, points: np.ndarray, where: np.ndarray) -> float:
    """The cheeks' grey over the darkest tenth of `where`'s grey."""
    grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).astype(np.float32)
    skin = float(np.median([grey[int(points[p, 1]), int(points[p, 0])] for p in _CHEEKS]))
    return skin / max(float(np.percentile(grey[where], 10)), 1.0)


def _pupils(shape: tuple[int, ...], points: np.ndarray) -> np.ndarray:
    """bool (h, w): a disc of 0.35 of each iris' width around its centre (MediaPipe 468-477)."""
    discs = np.zeros(shape[:2], np.uint8)
    for centre, a, b in ((468, 469, 471), (473, 474, 476)):
        radius = int(round(0.35 * float(np.linalg.norm(points[a, :2] - points[b, :2]))))
        cv2.circle(discs, tuple(int(v) for v in np.round(points[centre, :2])), max(radius, 1), 1, -1)
    return discs > 0


def _worn_hair_ratio(output: np.ndarray, points: np.ndarray) -> float:
    """The worn moustache's darkness: the cheeks over the darkest tenth of the upper lip's pixels
    under 0.6 of the cheeks' grey (at least 300 of them)."""
    grey = cv2.cvtColor(output, cv2.COLOR_BGR2GRAY).astype(np.float32)
    skin = float(np.median([grey[int(points[p, 1]), int(points[p, 0])] for p in _CHEEKS]))
    hair = _upper_lip(output.shape, points) & (grey < 0.6 * skin)
    assert hair.sum() > 300, hair.sum()
    return _darkest_ratio(output, points, hair)


def test_a_moustache_is_as_dark_as_the_camera_draws_its_darkest(swap_one):
    # s12's near-black moustache (the photo's cheeks 7.3x its hair's darkest tenth) on the pale,
    # brightly lit d14: the colour transfer's dark gain lifted it to 3.4x, a mid-grey felt mass on a
    # face whose pupils the camera draws at 5.1x ("a crude moustache pasted over the lips", the blind
    # judge). Now its hair takes the camera's pupils' ratio (realtime/blend/hair_tone.py): here
    # 4.9 against 5.5 (this wider hair mask takes in the fringe, darkened in part), 3.2 before
    # (benchmarks/results/s31-moustache).
    image, face, output = swap_one("d14.mp4", 12, "s12.jpg", moved=True)
    points = face.landmarks
    camera = _darkest_ratio(image, points, _pupils(image.shape, points))
    worn = _worn_hair_ratio(output, points)
    assert 4.5 < camera < 6.0, camera
    assert worn >= 0.8 * camera, (worn, camera)  # 0.88 of it; 0.59 before
    # ... and no darker than the photo's own hair against its skin.
    assert worn <= 7.5, worn


def test_a_moustache_stays_dark_on_a_camera_with_light_eyes(swap_one):
    # s12's near-black moustache (the photo's cheeks ~7x its hair's darkest tenth) on d10 (light
    # grey eyes under a ring light: pupils of ~0.2 of the iris, a catchlight in each): the pupils'
    # disc's darkest tenth was its iris (1/4 of the cheeks), so the hair tone left the hair at the
    # colour transfer's mid-grey (L* 36 on skin at 76), a green-grey mass on her pink face (the
    # blind judge of session 35, issue 13). Now a pupil under a tenth of its disc is read at the
    # disc's darkest twentieth (hair_tone.PUPIL_SMALL): the hair is near the photo's ratio. Here
    # 3.8 on s35-lead, 6.4 now.
    _, face, output = swap_one("d10.mp4", 45, "s12.jpg", moved=True)
    worn = _worn_hair_ratio(output, face.landmarks)
    assert worn >= 5.0, worn
    # ... and no darker than the photo's own hair against its skin.
    assert worn <= 7.5, worn
