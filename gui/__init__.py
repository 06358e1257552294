"""facecam's desktop app (PyQt6): a thin client of `realtime.Engine`.

Every control becomes an `Engine.update(...)`, every number shown comes from `Engine.stats()`.
Engine work that can take time (opening a camera, detecting the face in a new photo, opening a
virtual camera or a recording) runs on one control thread (`gui.controller`), so the UI thread
never waits on the engine.
"""
