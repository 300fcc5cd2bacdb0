"""nbframe.nn layers: linear (not written yet)."""

__all__: list[str] = []
