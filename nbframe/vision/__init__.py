"""nbframe.vision: transforms and ready-made models (not written yet)."""
