import pytest

from realtime.errors import SettingsError
from realtime.settings import Settings, setting_names


def test_bare_and_dotted_names_change_the_right_group():
    settings = Settings().replace(opacity=0.5, **{"faces.smoothing": 0.2}, source="me.jpg")
    assert settings.blend.opacity == 0.5
    assert settings.faces.smoothing == 0.2
    assert settings.source == "me.jpg"
    assert Settings().blend.opacity == 1.0  # the original is untouched


def test_every_setting_name_is_unique():
    names = setting_names()
    assert len(names) == len(set(names))
    assert {"opacity", "source", "mode", "outputs", "device", "calibration"} <= set(names)


@pytest.mark.parametrize("change, words", [
    ({"opacity": 2.0}, "between 0 and 1"),
    ({"mode": "dance"}, "must be one of"),
    ({"max_faces": 1.5}, "whole number"),
    ({"mirror": "yes"}, "true or false"),
    ({"colour": 1}, "unknown setting"),
    ({"size": (640,)}, "wrong form"),
])
def test_bad_values_are_explained(change, words):
    with pytest.raises(SettingsError, match=words):
        Settings().replace(**change)


def test_toml_round_trip(tmp_path):
    settings = Settings().replace(opacity=0.7, outputs=("window", "out.mp4"), size=(640, 480),
                                  source="photo.jpg", mouth_mask=True)
    path = tmp_path / "facecam.toml"
    settings.save(path)
    assert Settings.load(path) == settings


def test_bad_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[blend]\nopacity = 7\n")
    with pytest.raises(SettingsError, match="bad.toml.*between 0 and 1"):
        Settings.load(path)
    path.write_text("this is not toml")
    with pytest.raises(SettingsError, match="not valid TOML"):
        Settings.load(path)
