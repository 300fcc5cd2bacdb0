"""nbframe.nn layers: loss (not written yet)."""

__all__: list[str] = []
