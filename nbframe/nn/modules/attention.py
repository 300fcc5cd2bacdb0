"""nbframe.nn layers: attention (not written yet)."""

__all__: list[str] = []
