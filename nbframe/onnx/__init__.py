"""nbframe.onnx: export a model to ONNX from the jit Graph IR (``nf.onnx.export``).

Needs the ``[onnx]`` extra (``onnx``; ``onnxruntime`` to run the result). An op with no ONNX
translation raises ``UnsupportedOperatorError`` naming the op and the graph node.
"""

from .converters import UnsupportedOperatorError
from .export import export

__all__ = ["export", "UnsupportedOperatorError"]
