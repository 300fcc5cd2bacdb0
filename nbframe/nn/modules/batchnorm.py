"""nbframe.nn layers: batchnorm (not written yet)."""

__all__: list[str] = []
