"""nbframe.vision: not written yet."""
