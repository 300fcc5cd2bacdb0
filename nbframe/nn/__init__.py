"""nbframe.nn: not written yet."""
