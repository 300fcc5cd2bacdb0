"""nbframe.widgets: GraphView, TrainingDashboard, TensorInspector — pictures drawn in Python as SVG.

Each widget is an ipywidgets view whose display also carries a static
``image/svg+xml`` or ``text/plain`` fallback, so exported notebooks keep the picture.
ipywidgets itself is imported only when a widget is shown.
"""

from .dashboard import TrainingDashboard
from .graph_view import GraphView
from .inspector import TensorInspector

__all__ = ["GraphView", "TrainingDashboard", "TensorInspector"]
