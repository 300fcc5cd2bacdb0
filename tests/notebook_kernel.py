"""Run a notebook in a real kernel (nbclient) for this very Python, on a kernel spec in a temporary prefix.

Shared by the magics demo test and the tutorials (tests and ``tutorials/build.py``). The kernel gets
two BLAS/OpenMP threads (the test machine's budget) and proxies that point nowhere, so a notebook
that reaches for the network fails at once instead of hanging.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KERNEL = "nbframe-test"

KERNEL_ENV = {
    **{name: "2" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                              "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")},
    **{name: "http://127.0.0.1:9" for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")},
    "no_proxy": "", "NO_PROXY": "",
}


@contextmanager
def kernel_spec(prefix: str | os.PathLike | None = None, name: str = KERNEL) -> Iterator[str]:
    """Install a kernel spec for the running Python under ``prefix`` and point Jupyter at it."""
    from ipykernel import kernelspec

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(prefix if prefix is not None else scratch)
        kernelspec.install(prefix=str(root), kernel_name=name)
        spec_file = root / "share" / "jupyter" / "kernels" / name / "kernel.json"
        spec = json.loads(spec_file.read_text())
        spec["env"] = {**spec.get("env", {}), **KERNEL_ENV}
        spec_file.write_text(json.dumps(spec, indent=1))
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = str(root / "share" / "jupyter")
        try:
            yield name
        finally:
            if old is None:
                del os.environ["JUPYTER_PATH"]
            else:
                os.environ["JUPYTER_PATH"] = old


def execute(notebook, cwd: str | os.PathLike, timeout: int = 180, kernel_name: str | None = None):
    """Execute ``notebook`` (an nbformat node, changed in place) top to bottom with ``cwd`` as its folder.

    Cells tagged ``raises-exception`` may fail; any other error raises nbclient's CellExecutionError.
    ``timeout`` bounds each cell, in seconds.
    """
    import nbclient

    def run(name: str):
        client = nbclient.NotebookClient(notebook, kernel_name=name, timeout=timeout, record_timing=False,
                                         resources={"metadata": {"path": str(cwd)}})
        return client.execute()

    if kernel_name is not None:
        return run(kernel_name)
    with kernel_spec() as name:
        return run(name)
