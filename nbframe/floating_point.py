"""NumPy's floating-point warnings from inside nbframe are off: inf and nan are values, as in PyTorch.

PyTorch never warns about overflow, division by zero or an invalid operation (``0 * inf``); NumPy
does, through Python's ``warnings``, attributed to the line that called it. In a notebook that is
a red box under a cell for a result the user expected. A filter on nbframe's own modules drops
those warnings and only those: a user's own NumPy code keeps its warnings, and an op pays nothing
(``np.errstate`` around each op would cost about 0.6 µs). ``nf.autograd.detect_anomaly()`` says
which op made a nan, and where.
"""

from __future__ import annotations

import warnings

#: Module names the filter covers: nbframe and its subpackages (nbframe.magics, nbframe.widgets, ...).
NBFRAME_MODULES = r"nbframe(\.|$)"


def silence_numpy_in_nbframe() -> None:
    """Install the filter (``import nbframe`` does); idempotent: ``warnings`` drops a repeated filter."""
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=NBFRAME_MODULES)
