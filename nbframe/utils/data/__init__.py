"""nbframe.utils.data: not written yet."""
