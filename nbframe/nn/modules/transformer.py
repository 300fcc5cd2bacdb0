"""nbframe.nn layers: transformer (not written yet)."""

__all__: list[str] = []
