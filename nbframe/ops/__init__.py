"""Every op, grouped by kind; the functions here are what ``nbframe.<op>`` and ``Tensor.<op>`` call.

``__all__`` is the union of the ops modules' own ``__all__`` lists, so ``from nbframe.ops import *``
gives functions only, never the modules themselves (``nbframe.linalg`` is the public
``torch.linalg`` namespace, not ``nbframe/ops/linalg.py``).
"""

from __future__ import annotations

from . import (
    conv,
    conversion,
    counting,
    elementwise,
    index,
    inplace,
    linalg,
    losses,
    nnops,
    pairwise,
    parametric_relu,
    pool,
    products,
    recurrent,
    reduce,
    sampling,
    scattering,
    shape,
    special_binary,
)
from .conv import *  # noqa: F403
from .conversion import *  # noqa: F403
from .counting import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .index import *  # noqa: F403
from .inplace import copy_, fill_, zero_
from .linalg import *  # noqa: F403
from .nnops import *  # noqa: F403
from .pairwise import *  # noqa: F403
from .parametric_relu import *  # noqa: F403
from .pool import *  # noqa: F403
from .products import *  # noqa: F403
from .reduce import *  # noqa: F403
from .sampling import *  # noqa: F403
from .scattering import *  # noqa: F403
from .shape import *  # noqa: F403
from .special_binary import *  # noqa: F403

#: The ops modules whose ``TENSOR_METHODS`` become Tensor methods (see ``methods.py``).
MODULES = (elementwise, reduce, shape, linalg, index, conversion, inplace, conv, pool, nnops, recurrent,
           counting, sampling, scattering, special_binary, products,
           pairwise, parametric_relu)

_EXPORTED = (conv, conversion, counting, elementwise, index, linalg, nnops, pool, reduce, sampling,
             scattering, shape, special_binary, products, pairwise,
             parametric_relu)
__all__ = sorted({name for module in _EXPORTED for name in module.__all__} | {"copy_", "fill_", "zero_"})
