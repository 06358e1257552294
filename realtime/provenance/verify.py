"""`facecam verify FILE`: does a video or picture carry facecam's provenance mark?

Exit codes: 0 the invisible mark was found, 1 not found, 2 the file cannot be read. A C2PA
manifest is read too (offline: a remote manifest URL named in the file is never fetched) and
reported with whether its signature holds and whether anyone trusted vouches for its signer, but
it does not decide the exit code: anyone can write a manifest that claims facecam made a file. A video is judged in chunks of CHUNK frames (two seconds at 30 fps): the working maps of a
chunk are averaged, searched for the mark, and then each frame of a chunk that carries it is
tested alone at the chunk's scale and offset, to count the frames that carry it. The maps of the
whole file (of one picture size) are averaged too and searched once more, so evidence too weak in
any one chunk adds up over a long video (Video Seal judges a video the same way: its per-frame
bit predictions averaged over the whole video, facebookresearch/videoseal,
videoseal/models/videoseal.py, `extract_message`, aggregation "avg").

Each search tests the nominal sync first (an uncropped picture: 45 tests, wm.Z_NOMINAL), then the
same mirrored back (wm.Z_MIRRORED) and turned back by each of wm.ROTATIONS (wm.Z_ROTATED), then every
scale and offset (wm.Z_FOUND); each threshold has a false-alarm rate of at most ~1e-6 per map.
The faces' keep-out squares (found with MediaPipe, as the engine finds them) are left out of every
map first: the embedder leaves them untouched, so they hold only noise (`wm.keep_out_weights`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from realtime.errors import InputError
from realtime.provenance import watermark as wm

CHUNK = 60
NULL_TRIALS = 3.2e8
"""How many independent chi-square tries one search is worth for the confidence: more than the
~90k offsets and scales times the KEY_HALF + 1 maps it really tries, because picture content is
not white noise (the single map's former 2e7, times 16); unmarked clips stay well below 0.5
(benchmarks/results/watermark.md)."""
NOMINAL_TRIALS = 1.6e5
"""The same for a search at the nominal sync only (45 tests for each of 16 maps, the same
220-fold allowance)."""
ROTATED_TRIALS = 5e5
"""The same for the search turned back by each of wm.ROTATIONS (2304 tests for 16 maps, the same
220-fold allowance)."""
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}

EXIT_FOUND = 0
EXIT_NOT_FOUND = 1


def confidence(z: float, trials: float = NULL_TRIALS) -> float:
    """1 - (an estimate of the chance that unmarked footage reaches strength z somewhere)."""
    from scipy.special import gammaincc

    energy = wm.CODED_BITS + z * z
    tail = float(gammaincc(wm.CODED_BITS / 2, energy / 2))  # chi-square survival function
    return max(0.0, 1.0 - min(1.0, trials * tail))


@dataclass
class Verdict:
    file: str
    kind: str
    found: bool = False
    confidence: float = 0.0
    strength: float = 0.0
    """Best z-score of the full search (every scale and offset) over the chunks and the whole file
    (6-7.5 when unmarked; found from wm.Z_FOUND)."""
    nominal_strength: float = 0.0
    """Best z-score at the nominal sync (an uncropped picture) over the chunks and the whole file
    (2-4.5 when unmarked; found from wm.Z_NOMINAL)."""
    mirrored_strength: float = 0.0
    """Best z-score at the nominal sync of the maps flipped back (a mirrored video; found from
    wm.Z_MIRRORED), where the picture as it is did not reach Z_NOMINAL."""
    mirrored: bool = False
    """Found only in the picture mirrored back: the file was flipped left to right."""
    rotated_strength: float = 0.0
    """Best z-score at the nominal sync of the maps turned back by each of wm.ROTATIONS (a turned
    video; found from wm.Z_ROTATED), where neither the picture as it is nor mirrored reached theirs."""
    rotation: float = 0.0
    """Degrees the file was found turned by (0: not turned, or not found that way)."""
    whole_found: bool = False
    """Found in the average of the whole file's maps (a long video's evidence added up)."""
    version: int | None = None
    session: str | None = None
    """The per-session id, in hex, when the payload could be read (its CRC holds)."""
    frames: int = 0
    frames_marked: int = 0
    faces_left_out: int = 0
    """Frames in which a face was found and its keep-out square left out of the search
    (`_FaceFinder`)."""
    chunks: int = 0
    chunks_marked: int = 0
    c2pa: dict | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{self.file}: " + ("facecam mark FOUND" if self.found else "no facecam mark found")]
        lines.append(f"  confidence {self.confidence:.4f} (strength z = {self.nominal_strength:.1f} "
                     f"where an uncropped picture keeps it, found from {wm.Z_NOMINAL:g}; "
                     f"{self.strength:.1f} anywhere, found from {wm.Z_FOUND:g})")
        if self.mirrored:
            lines.append(f"  found in the picture mirrored back (the file was flipped left to right; "
                         f"strength {self.mirrored_strength:.1f}, found from {wm.Z_MIRRORED:g})")
        if self.rotation:
            lines.append(f"  found in the picture turned back by {self.rotation:g} degrees (the file was "
                         f"rotated; strength {self.rotated_strength:.1f}, found from {wm.Z_ROTATED:g})")
        if self.session is not None:
            lines.append(f"  payload: facecam mark version {self.version}, session {self.session}")
        elif self.found:
            lines.append("  payload: not readable (too little footage or too degraded)")
        if self.kind == "video":
            lines.append(f"  frames carrying the mark: {self.frames_marked} of {self.frames} "
                         f"({self.chunks_marked} of {self.chunks} two-second chunks)")
            if self.whole_found and not self.chunks_marked:
                lines.append("  found only in the whole file's frames taken together (no two-second "
                             "chunk carries enough of it alone)")
        if self.c2pa is not None:
            lines.append(f"  C2PA manifest: {self.c2pa.get('summary', 'present')}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def _video_frames(path: Path, max_frames: int | None) -> Iterator[np.ndarray]:
    import av

    from realtime.capture.video import frame_to_bgr

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as error:
        raise InputError(f"cannot read {path}: not a video or picture facecam can open ({error})") from None
    with container:
        if not container.streams.video:
            raise InputError(f"{path} has no video stream")
        count = 0
        try:
            for frame in container.decode(video=0):
                yield frame_to_bgr(frame)
                count += 1
                if max_frames is not None and count >= max_frames:
                    return
        except av.error.FFmpegError as error:
            if count == 0:
                raise InputError(f"cannot decode {path}: {error}") from None


class _FaceFinder:
    """The faces of the pictures checked, found as the engine finds them (MediaPipe's face mesh,
    tracking from picture to picture, the engine's face settings), so that the squares the
    embedder kept out (`wm.face_keep_out`) are left out of the search too (`wm.keep_out_weights`).
    Without MediaPipe the search simply sees the whole picture."""

    def __init__(self) -> None:
        self._detector = None
        try:
            from realtime.faces.mediapipe_mesh import MediaPipeFaceMesh
            from realtime.settings import Settings

            self._detector = MediaPipeFaceMesh(Settings().faces, static=False)
        except Exception:  # noqa: BLE001 - no MediaPipe (or no model): search the whole picture
            self._detector = None

    @property
    def available(self) -> bool:
        return self._detector is not None

    def boxes(self, picture: np.ndarray) -> list[tuple[int, int, int, int]]:
        if self._detector is None:
            return []
        return [face.box for face in self._detector.detect(picture)]

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()


def _search(sums: wm.KeyedSums | wm.AdaptiveKeyedSums, verdict: Verdict) -> wm.Detection:
    # Every key phase (and the plain average) at the nominal sync, then at every scale and offset.
    candidates = sums.candidates()
    nominal = wm.search_keyed_nominal(candidates)
    verdict.nominal_strength = max(verdict.nominal_strength, nominal.z)
    if nominal.found:
        return nominal
    mirrored = wm.search_keyed_nominal(candidates, mirrored=True)
    verdict.mirrored_strength = max(verdict.mirrored_strength, mirrored.z)
    if mirrored.found:
        verdict.mirrored = True
        return mirrored
    rotated = wm.search_rotated(candidates)
    verdict.rotated_strength = max(verdict.rotated_strength, rotated.z)
    if rotated.found:
        verdict.rotation = rotated.rotation
        return rotated
    full = wm.search_keyed_all(candidates)
    verdict.strength = max(verdict.strength, full.z)
    return full


def _aligned(bits: np.ndarray, reference: list[np.ndarray]) -> np.ndarray:
    """Soft bits turned to the sign of the ones already kept: a chunk's key phase decides whether
    it reads the pattern or its negative."""
    bits = bits / (np.linalg.norm(bits) + 1e-9)
    if reference and float(np.dot(bits, reference[0])) < 0:
        return -bits
    return bits


def _payload_bits(detection: wm.Detection, maps: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """The soft bits to read the payload from: the found chunk's bits at its sync in the plain
    working maps (KeyedSums, the key phase found) when those pass the CRC, else the detection's.
    The locally normalised maps find the mark more often, but on d20 they lost the payload where
    the working maps read it (benchmarks/results/s18-mark/)."""
    if len(maps) < 2:
        return detection.soft_bits
    sums = wm.KeyedSums(maps[0][1].shape)
    for index, work in maps:
        sums.add(work, index)
    for phase, work in sums.candidates():
        if phase == detection.phase:
            plain = wm._bits_at(wm._fold(wm.turned(work, detection), detection.sync.scale), detection.sync.shift)
            if wm.read_payload(plain) is not None:
                return plain
    return detection.soft_bits


def _judge_chunk(maps: list[tuple[int, np.ndarray, np.ndarray]], verdict: Verdict,
                 bits: list[np.ndarray]) -> None:
    # The chunk is searched in its locally normalised maps (wm.keyed_map, per-frame weights); each
    # frame is then tested alone in its working map.
    # One picture alone keeps the working map its thresholds were measured on.
    sums: wm.KeyedSums | wm.AdaptiveKeyedSums
    if len(maps) == 1:
        sums = wm.KeyedSums(maps[0][1].shape)
        sums.add(maps[0][1], maps[0][0])
    else:
        sums = wm.AdaptiveKeyedSums(maps[0][2].shape)
        for index, _, keyed in maps:
            sums.add(keyed, index)
    detection = _search(sums, verdict)
    verdict.chunks += 1
    verdict.frames += len(maps)
    if not detection.found:
        return
    verdict.chunks_marked += 1
    bits.append(_aligned(_payload_bits(detection, [(i, w) for i, w, _ in maps]), bits))
    verdict.frames_marked += sum(wm.strength_at(wm.turned(m, detection), detection.sync) >= wm.Z_FRAME
                                 for _, m, _ in maps)


def verify_pictures(frames: Iterator[np.ndarray], verdict: Verdict, chunk: int = CHUNK,
                    faces: bool = True) -> Verdict:
    """Search pictures (one file's frames, in order) for the mark. `faces`: leave the faces'
    keep-out squares out of the search (`_FaceFinder`)."""
    finder = _FaceFinder() if faces else None
    try:
        return _verify_pictures(frames, verdict, chunk, finder)
    finally:
        if finder is not None:
            finder.close()


def _verify_pictures(frames: Iterator[np.ndarray], verdict: Verdict, chunk: int,
                     finder: _FaceFinder | None) -> Verdict:
    if finder is not None and not finder.available:
        verdict.notes.append("MediaPipe not available: the faces were searched too (a weaker search)")
        finder = None
    maps: list[tuple[int, np.ndarray, np.ndarray]] = []  # (frame index in the file, working map, keyed map)
    bits: list[np.ndarray] = []
    totals: dict[tuple[int, int], wm.AdaptiveKeyedSums] = {}  # map shape -> the whole file's maps
    shape = None
    for index, picture in enumerate(frames):
        work = wm.working_map(picture)
        if maps and work.shape != shape:  # the size changed mid-file: judge what came before
            _judge_chunk(maps, verdict, bits)
            maps = []
        shape = work.shape
        keyed = wm.keyed_map(picture)
        weights = None if finder is None else wm.keep_out_weights(work.shape, picture.shape, finder.boxes(picture))
        if weights is not None:  # the keep-out holds no mark: only noise to the search
            work *= weights
            keyed *= weights
            verdict.faces_left_out += 1
        totals.setdefault(shape, wm.AdaptiveKeyedSums(shape)).add(keyed, index)
        maps.append((index, work, keyed))
        if len(maps) >= chunk:
            _judge_chunk(maps, verdict, bits)
            maps = []
    if maps:
        _judge_chunk(maps, verdict, bits)
    if verdict.frames == 0:
        raise InputError(f"{verdict.file} has no frames to check")
    whole_bits: list[np.ndarray] = []
    for total in totals.values():
        if total.frames > chunk:  # more than one chunk of this size: judge them all at once too
            detection = _search(total, verdict)
            if detection.found:
                verdict.whole_found = True
                whole_bits.append(_aligned(detection.soft_bits, whole_bits))
    verdict.found = verdict.chunks_marked > 0 or verdict.whole_found
    verdict.confidence = max(confidence(verdict.strength), confidence(verdict.nominal_strength, NOMINAL_TRIALS),
                             confidence(verdict.mirrored_strength, NOMINAL_TRIALS),
                             confidence(verdict.rotated_strength, ROTATED_TRIALS))
    bits = bits or whole_bits
    if bits:
        payload = wm.read_payload(np.sum(bits, axis=0))
        if payload is not None:
            verdict.version, session = payload
            verdict.session = f"{session:04x}"
    return verdict


def _frame_count(path: Path) -> int | None:
    import av

    try:
        with av.open(str(path)) as container:
            return container.streams.video[0].frames or None
    except (av.error.FFmpegError, OSError, IndexError):
        return None


def _with_progress(frames: Iterator[np.ndarray], total: int | None) -> Iterator[np.ndarray]:
    from tqdm import tqdm

    with tqdm(total=total, unit="frame", desc="verify", leave=False, file=sys.stderr,
              dynamic_ncols=True) as bar:
        for frame in frames:
            yield frame
            bar.update(1)


def verify_file(path: str | Path, max_frames: int | None = None, progress: bool = False) -> Verdict:
    """Check one file; InputError when it cannot be read. `progress`: a bar on stderr."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a video or picture")
    if path.suffix.lower() in PICTURE_SUFFIXES:
        from realtime.capture.image import read_picture

        verdict = verify_pictures(iter([read_picture(path)]), Verdict(str(path), "picture"))
    else:
        frames = _video_frames(path, max_frames)
        if progress:
            total = _frame_count(path)
            frames = _with_progress(frames, min(total, max_frames) if total and max_frames else total)
        verdict = verify_pictures(frames, Verdict(str(path), "video"))
    try:
        from realtime.provenance.c2pa_manifest import read_manifest
    except ImportError:
        read_manifest = None
    if read_manifest is not None:
        verdict.c2pa = read_manifest(path)
        if verdict.c2pa is not None and verdict.c2pa.get("facecam") and not verdict.found:
            verdict.notes.append("a C2PA manifest claims facecam made this file, but the invisible "
                                 "mark was not found" + ("" if verdict.c2pa.get("trusted") else
                                                         ", and the manifest's signer is not trusted"))
    return verdict


# -- command -----------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("exit codes: 0 the invisible mark was found, 1 not found, 2 the file cannot be "
                     "read. A C2PA manifest is reported (offline; its signer's trust shown) but does "
                     "not change the exit code.")
    parser.add_argument("file", metavar="FILE", help="a video or picture")
    parser.add_argument("--max-frames", type=int, metavar="N", default=None,
                        help="check only the first N frames of a video")


def run(args: argparse.Namespace) -> int:
    verdict = verify_file(args.file, max_frames=args.max_frames,
                          progress=sys.stderr.isatty() and not args.json and not args.quiet)
    if args.json:
        print(json.dumps(asdict(verdict), indent=2))
    elif not args.quiet:
        print(verdict.summary(), file=sys.stdout)
    # The invisible mark alone decides: a C2PA claim is only as good as its signer, and the
    # local signing key facecam uses is, honestly, trusted by nobody.
    return EXIT_FOUND if verdict.found else EXIT_NOT_FOUND
