"""nbframe.debug: not written yet."""
