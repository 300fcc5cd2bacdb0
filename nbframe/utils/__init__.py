"""nbframe.utils: not written yet."""
