"""An in-process IPython shell with the extension loaded, the way IPython tests its own magics."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nbframe as nf
from nbframe import nn


@dataclass
class Ran:
    """What a cell did: success, the exception, printed text, and the MIME bundles it displayed."""

    success: bool
    error: BaseException | None
    stdout: str
    stderr: str
    outputs: list[dict]

    def shown(self, mime: str = "text/plain") -> str:
        return "\n".join(o[mime] for o in self.outputs if mime in o)


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nbframe")
    before = set(shell.user_ns)
    shell.user_ns.update(nf=nf, nn=nn)
    yield shell
    for name in set(shell.user_ns) - before:
        del shell.user_ns[name]
    shell.run_line_magic("unload_ext", "nbframe")


@pytest.fixture
def run(shell):
    """``run(cell)``: run a cell in the shell and capture everything it showed."""

    def run_cell(source: str) -> Ran:
        with capture_output() as captured:
            result = shell.run_cell(source)
        error = result.error_in_exec or result.error_before_exec
        return Ran(result.success, error, captured.stdout, captured.stderr,
                   [dict(o.data) for o in captured.outputs])

    return run_cell


def layers_written() -> bool:
    return all(hasattr(nn, name) for name in ("Linear", "ReLU", "Conv2d", "Flatten"))


needs_layers = pytest.mark.skipif(not layers_written(), reason="nn.Linear/ReLU/Conv2d/Flatten not written")
