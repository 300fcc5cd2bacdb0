"""nbframe.nn layers: sparse (not written yet)."""

__all__: list[str] = []
