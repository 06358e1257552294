# s23-cheaper: the invisible mark's session id fixed (0x2323) in every facecam run, so that two
# checkouts' written files differ only where their pictures do (as s23-budget/run_fixed_mark.py).
try:
    import realtime.provenance as _provenance

    _provenance.new_session_id = lambda: 0x2323
except Exception:  # noqa: BLE001
    pass
