"""The demo notebook runs end to end in a real kernel (nbclient), showing what a notebook user sees."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ..notebook_kernel import kernel_spec
from .conftest import needs_layers

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel.kernelspec")

NOTEBOOK = Path(__file__).with_name("magics_demo.ipynb")
KERNEL = "nbframe-magics-test"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Run the notebook on a kernel spec for this very Python, installed in a temporary prefix."""
    prefix = tmp_path_factory.mktemp("kernel")
    with kernel_spec(prefix, KERNEL):
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(notebook, kernel_name=KERNEL, timeout=120,
                                         resources={"metadata": {"path": str(prefix)}})
        client.execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def outputs(cell, kind: str) -> list:
    return [o for o in cell.outputs if o.output_type == kind]


def data(cell, mime: str) -> str:
    return "\n".join(o.data[mime] for o in cell.outputs if "data" in o and mime in o.data)


pytestmark = [needs_layers, pytest.mark.skipif(sys.platform == "win32", reason="kernel spec paths")]


def test_the_model_cell_shows_its_summary_as_html(executed):
    assert "<table" in data(executed[1], "text/html") and "fc2 (Linear)" in data(executed[1], "text/plain")


def test_a_shape_mistake_is_a_short_error_output_with_the_fix(executed):
    (error,) = outputs(executed[2], "error")
    assert error.ename == "ShapeError"
    assert len(error.traceback) <= 4
    assert error.traceback[-1] == "did you mean Linear(16, 3)?"


def test_graph_form_and_graph_views_are_svg_pictures(executed):
    assert "<svg" in data(executed[3], "image/svg+xml")
    assert "net.fc1.weight" in data(executed[4], "image/svg+xml")


def test_watch_shows_the_op_table_and_nan_stops_with_its_line(executed):
    assert "<table" in data(executed[5], "text/html")
    (error,) = outputs(executed[6], "error")
    assert error.ename == "NanError" and "cell line 3: nf.log(y) produced NaN" in error.traceback[0]


def test_info_tensor_and_module_displays(executed):
    assert "graphviz" in data(executed[7], "text/html")
    assert "<table" in data(executed[8], "text/html")
    assert "requires_grad (leaf)" in data(executed[9], "text/html")
    assert "Total params" in "".join(o.get("text", "") for o in outputs(executed[10], "stream"))
