"""``nbframe.nn``: modules, parameters, layers and losses with PyTorch's names and defaults."""

from . import functional, init, utils
from .containers import *  # noqa: F403
from .module import *  # noqa: F403
from .modules import *  # noqa: F403
from .parameter import *  # noqa: F403
