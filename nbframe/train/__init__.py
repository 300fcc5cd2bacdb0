"""nbframe.train: not written yet."""
