"""A notebook that loads the extension shows a tensor and a ``%%model`` summary as HTML in JupyterLab."""

from __future__ import annotations

from .notebook_ui import code_cell, errors_shown, expect, open_notebook, outputs, run_all, write_notebook

CELLS = [
    "%load_ext nbframe\nimport nbframe as nf",
    "nf.ones(2, 3, requires_grad=True)",
    "%%model net --input 2,4\nfc1 = Linear(4, 16)\nReLU()\nfc2 = Linear(16, 3)",
]


def test_run_all_shows_the_tensor_and_the_model_summary_tables(page, lab, artifacts):
    open_notebook(page, lab, write_notebook(lab, "displays.ipynb", CELLS))
    run_all(page)
    assert errors_shown(page) == []
    tensor, summary = outputs(page, 1), outputs(page, 2)
    expect(tensor).to_contain_text("requires_grad (leaf)")
    expect(tensor.locator(".nbframe-tensor")).to_contain_text("shape [2, 3]")
    expect(summary.locator("table").first).to_be_visible()
    expect(summary.locator("table").first).to_contain_text("fc2 (Linear)")
    expect(summary).to_contain_text("Total params")
    code_cell(page, 2).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "displays.png"), full_page=True)
