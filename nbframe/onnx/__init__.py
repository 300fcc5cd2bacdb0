"""nbframe.onnx: not written yet."""
