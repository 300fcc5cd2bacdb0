"""nbframe.vision.models (not written yet)."""
