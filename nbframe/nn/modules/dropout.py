"""nbframe.nn layers: dropout (not written yet)."""

__all__: list[str] = []
