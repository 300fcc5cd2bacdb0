"""nbframe.nn layers: conv (not written yet)."""

__all__: list[str] = []
