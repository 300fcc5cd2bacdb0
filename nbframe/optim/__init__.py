"""nbframe.optim: PyTorch's optimisers (SGD, Adam, AdamW, RMSprop, Adagrad) and ``lr_scheduler``.

Each optimiser updates the raw parameter arrays in place (NumPy or CuPy), with
PyTorch's update rules and defaults, so the same script gives the same numbers.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
