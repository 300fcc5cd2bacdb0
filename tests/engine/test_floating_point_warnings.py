"""inf and nan from nbframe's ops are values, without NumPy's RuntimeWarnings, as in PyTorch."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_no_numpy_warning_from_nbframe_but_the_users_own_numpy_still_warns():
    code = textwrap.dedent(
        """
        import numpy as np
        import nbframe as nf
        x = nf.tensor([1.0, 0.0, -1.0], requires_grad=True)
        y = (x * 1e39 + x / 0 + x.log() + nf.tensor([1e38]) * 10).sum()
        y.backward()
        print("nbframe done", y.item())
        np.ones(2, np.float32) * 1e39  # the user's own NumPy: warns as usual
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "nbframe done nan" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warnings) == 1 and warnings[0].startswith("<string>"), result.stderr
