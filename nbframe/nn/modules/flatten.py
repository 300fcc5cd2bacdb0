"""nbframe.nn layers: flatten (not written yet)."""

__all__: list[str] = []
