"""nbframe.optim: not written yet."""
