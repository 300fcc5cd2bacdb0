"""nbframe.nn layers: activation (not written yet)."""

__all__: list[str] = []
