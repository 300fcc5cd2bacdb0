"""nbframe.nn layers: pooling (not written yet)."""

__all__: list[str] = []
