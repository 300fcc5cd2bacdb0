"""nbframe.nn.module (not written yet)."""

__all__: list[str] = []
