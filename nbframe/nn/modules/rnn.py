"""nbframe.nn layers: rnn (not written yet)."""

__all__: list[str] = []
