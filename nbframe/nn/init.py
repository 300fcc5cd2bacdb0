"""nbframe.nn.init (not written yet)."""

__all__: list[str] = []
