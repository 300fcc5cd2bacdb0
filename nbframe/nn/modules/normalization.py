"""nbframe.nn layers: normalization (not written yet)."""

__all__: list[str] = []
