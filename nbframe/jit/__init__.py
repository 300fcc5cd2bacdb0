"""nbframe.jit: not written yet."""
