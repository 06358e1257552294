"""Which model files a choice of settings needs, and which of them are not on disk: asked
before a swapper, animator or enhancer is switched on, so that a missing model is one clear
line (with the command that fetches it) and the engine keeps running what worked."""

from __future__ import annotations

from typing import Any

from realtime.errors import FacecamError

# What each neural stage loads (the modules' own constants, repeated here to stay import-light).
_SWAPPER_MODELS = {"inswapper": ("{swap_model}", "w600k_r50")}
_ANIMATOR_MODELS = {"liveportrait": ("liveportrait_feature_extractor", "liveportrait_motion_extractor",
                                     "liveportrait_stitcher", "liveportrait_generator")}


def required_models(settings: Any) -> list[str]:
    """Catalogue names the settings' mode needs (the swapper's, the animator's, the enhancer's)."""
    names: list[str] = []
    if settings.mode == "swap":
        names += [n.format(swap_model=settings.inference.swap_model)
                  for n in _SWAPPER_MODELS.get(settings.swap.swapper, ())]
        if settings.swap.swapper == "inswapper" and settings.inference.enhancer == "gfpgan":
            names.append("gfpgan_1_4")
    elif settings.mode == "animate":
        names += list(_ANIMATOR_MODELS.get(settings.animate.animator, ()))
    return names


def missing_models(settings: Any, store: Any = None) -> list[str]:
    """One line per missing piece, with the command that fixes it; empty when all is there."""
    from realtime.inference.store import ModelStore, models_dir

    lines: list[str] = []
    store = store or ModelStore(models_dir(settings.inference))
    missing = [name for name in required_models(settings)
               if name in store.specs and not (store.root / store.spec(name).file).exists()]
    if missing:
        commands = sorted({store.spec(name).fetch_command.removeprefix("facecam models fetch ")
                           for name in missing})
        lines.append(f"not downloaded: {', '.join(missing)} (facecam models fetch {' '.join(commands)})")
    if settings.mode == "swap" and settings.swap.swapper == "dfm":
        from realtime.swap.dfm import resolve_dfm

        try:
            resolve_dfm(settings.swap.dfm_model, store.root)
        except FacecamError as error:
            lines.append(str(error))
    return lines


def missing_choices(settings: Any, store: Any = None) -> dict[str, dict[str, str]]:
    """For the GUI's implementation choices: {"swapper"|"animator": {name: why it cannot run}}
    for each registered implementation whose models are missing."""
    from realtime.animate import ANIMATORS
    from realtime.swap import SWAPPERS

    marks: dict[str, dict[str, str]] = {"swapper": {}, "animator": {}}
    for kind, names, mode in (("swapper", SWAPPERS, "swap"), ("animator", ANIMATORS, "animate")):
        for name in names:
            trial = settings.replace(mode=mode, **{kind: name})
            lines = missing_models(trial, store)
            if lines:
                marks[kind][name] = "; ".join(lines)
    return marks
