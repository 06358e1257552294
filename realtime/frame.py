"""The records that travel through the pipeline: a Frame carries one picture and what the
stages learned about it; a Face is one detected face; a FaceLayer is a rendered face waiting
to be composited."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in pixels; x1/y1 exclusive."""


@dataclass(slots=True)
class Face:
    """One face in one picture.

    landmarks: (478, 3) float32, MediaPipe face-mesh order (468 mesh points + 10 iris points);
    x and y in pixels of the picture, z in the same pixel scale (smaller = nearer the camera).
    """

    landmarks: np.ndarray
    box: Box
    score: float = 1.0
    track_id: int = -1
    # yaw, pitch, roll in degrees; yaw > 0 when the face turns to its own left.
    pose: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # Frames since this geometry was last really observed (0: detected in this frame).
    held: int = 0

    @property
    def points(self) -> np.ndarray:
        """(478, 2) x, y in pixels."""
        return self.landmarks[:, :2]

    @property
    def size(self) -> float:
        """A face size in pixels: the diagonal of the box."""
        x0, y0, x1, y1 = self.box
        return float(np.hypot(x1 - x0, y1 - y0))


@dataclass(slots=True)
class FaceLayer:
    """A face rendered by a swapper, in the coordinates of `box` of the frame.

    image: (h, w, 3) uint8 BGR; alpha: (h, w) float32 in [0, 1] (1 = fully the rendered face).
    """

    box: Box
    image: np.ndarray
    alpha: np.ndarray
    face: Face
    relit: bool = False
    """True when the swapper already gave the face the target's light (blend skips its own)."""
    scale: float = 1.0
    """Target pixels per source pixel of the rendered face (> 1: the source was enlarged)."""
    grain: np.ndarray | None = None
    """The camera's own pixels over `box` where the shape transfer (realtime/swap/shape.py) moved
    the picture under the layer: the camera grain's source; None: the picture under the layer."""
    grain_points: np.ndarray | None = None
    """The face's landmarks in `grain` (the unmoved picture: its own brows and lash lines are
    there, not at `face`'s moved points); None: `face.landmarks`."""
    kept: tuple[np.ndarray, tuple[int, int]] | None = None
    """(keep, (x, y)): where the layer keeps the target's own features on purpose (its glasses
    frames, a closing eye's lids: float32 in [0, 1] over a part of `box` whose top-left corner is
    (x, y) in the layer's pixels); the blend stage gives them the new face's low-frequency colour
    (realtime/blend/kept.py). None: nothing kept."""
    kept_lines: tuple[np.ndarray, tuple[int, int]] | None = None
    """The part of `kept` whose lines are never made weaker than the camera draws them (the
    glasses frames; a closing eye's lids take the shift in full), as `kept`."""
    glasses: tuple[np.ndarray, tuple[int, int]] | None = None
    """For a layer rendered at a working size (realtime/swap/mesh.py: work_face_px): the target's
    glasses frames found at the frame's resolution, (keep, (x, y)) over `box` in frame pixels,
    not yet cut from `alpha` nor in `kept`: the blend stage does both once the layer is enlarged
    (thin lines of the camera's, they lose their edges at the working size). None: none."""
    work_target: np.ndarray | None = None
    """For a layer rendered at a working size: the picture under `box` it was rendered from, shrunk
    to the layer's size (the blend matches the colour there). None: not reduced."""
    moustache: bool | None = None
    """Whether the face worn has a moustache, decided once per source photo by the swapper (the
    mesh swapper's clean texture, CleanTexture.moustache): the blend stage keeps its hair strands
    (realtime/faces/brows.py, hair_weight), and looks for none on a clean-shaven one. None: not
    known, looked for on each frame's rendered face."""
    hard_light: float = 0.0
    """0-1: how hard the target's directional light is, where the swapper fitted it (the mesh
    swapper: the square of swap/mesh.py relight_weight; d20 and d3 1, d13 0.04, a flat or soft
    light 0). The blend stage meets the new face to the target's shade beside a cut in its alpha
    at the temples as far as this (realtime/blend/color.py _cut_membrane). 0: not at all."""
    source_detail: float | None = None
    """How strong the worn face's own fine detail is (blend/detail.py source_fine_detail of the
    source photo's clean texture, grey levels RMS), read once per photo by the swapper: a faint one
    is aimed higher at the camera's sharpness (detail.match_aim). None: not known (MATCH_RANGE)."""


@dataclass(slots=True)
class Frame:
    """One picture on its way from capture to the outputs."""

    index: int
    image: np.ndarray
    """The captured BGR uint8 picture. Stages never write into it."""
    capture_ns: int
    """time.monotonic_ns() when the picture was captured."""
    pts: float | None = None
    """Presentation time in seconds within the source media (files), None for cameras."""
    faces: list[Face] = field(default_factory=list)
    layers: list[FaceLayer] = field(default_factory=list)
    output: np.ndarray | None = None
    """The composed result, once a stage has produced one; None means `image` unchanged."""
    stamps: dict[str, tuple[int, int]] = field(default_factory=dict)
    """stage name -> (enter, exit) in monotonic ns."""
    errors: list[str] = field(default_factory=list)
    """Stages that failed on this frame (the frame went on without their work)."""
    placeholder: bool = False
    """True for a frame made up by capture while the real source is unavailable."""
    mapping: list[tuple[Box, str, int, str | None]] = field(default_factory=list)
    """With a face map: per swapped face (box, the name of the photo it wears, track id, the
    rule's text or None for the main source). For the GUI's name tags; never drawn into outputs."""

    @property
    def result(self) -> np.ndarray:
        """What an output should show: the composed result, or the picture itself."""
        return self.output if self.output is not None else self.image

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])
