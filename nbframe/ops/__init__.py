"""Every op, grouped by kind; the functions here are what ``nbframe.<op>`` and ``Tensor.<op>`` call."""

from __future__ import annotations

from . import (
    conv,
    conversion,
    elementwise,
    index,
    inplace,
    linalg,
    losses,
    nnops,
    pool,
    recurrent,
    reduce,
    shape,
)
from .conv import *  # noqa: F403
from .conversion import *  # noqa: F403
from .conversion import clone, contiguous, to
from .elementwise import *  # noqa: F403
from .index import *  # noqa: F403
from .inplace import copy_, fill_, zero_
from .linalg import *  # noqa: F403
from .nnops import *  # noqa: F403
from .pool import *  # noqa: F403
from .reduce import *  # noqa: F403
from .shape import *  # noqa: F403

#: The ops modules whose ``TENSOR_METHODS`` become Tensor methods (see ``methods.py``).
MODULES = (elementwise, reduce, shape, linalg, index, conversion, inplace, conv, pool, nnops, recurrent)
