"""Driving a notebook in JupyterLab the way a user does: open it, run cells from the Run menu, read outputs.

Every wait is on an explicit DOM condition with a timeout (never a sleep): the kernel's execution
indicator, the cells' input prompts (``[*]`` while running, ``[n]`` when done), elements appearing.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .conftest import KERNEL, Lab

KERNEL_READY_TIMEOUT = 60_000  # ms: the first kernel start imports numpy and nbframe on a busy 2-core machine

# True once a Run All has settled: some cell has an execution count and none is queued or running ('*').
# Either every cell ran, or one raised and JupyterLab dropped the rest of the queue.
RUN_SETTLED = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent);
  return prompts.some(t => /\\[\\d+\\]/.test(t)) && !prompts.some(t => t.includes('*'));
}"""

# True when the code cell with the given index has finished (an execution count, not '*' or blank).
CELL_DONE = """(index) => {
  const prompt = document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')[index];
  return prompt !== undefined && /\\[\\d+\\]/.test(prompt.textContent);
}"""


def write_notebook(lab: Lab, name: str, sources: list[str]) -> str:
    """Write a notebook of code cells, set to run on the test kernel, into the server's root folder."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": KERNEL, "display_name": "nbframe (test)", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, Path(lab.root) / name)
    return name


def open_notebook(page, lab: Lab, name: str) -> None:
    """Open ``name`` in a workspace of its own and wait until its kernel is up and idle."""
    page.goto(lab.open_url(name, workspace=Path(name).stem))
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=KERNEL_READY_TIMEOUT)
    # The toolbar's execution indicator says "idle" before any kernel exists; the status bar names the
    # kernel and its state only once it is connected.
    kernel_idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(rf"^\s*{KERNEL} \| Idle\s*$"))
    kernel_idle.wait_for(timeout=KERNEL_READY_TIMEOUT)


def run_command(page, menu: str, command: str) -> None:
    """Click ``menu`` in the menu bar, then its item for the JupyterLab ``command``."""
    page.locator(".lm-MenuBar-item", has_text=menu).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').click()


def run_all(page, timeout: float = 90_000) -> None:
    """Run -> Run All Cells, wait until it settles, and fail with the notebook's errors if a cell raised."""
    run_command(page, "Run", "runmenu:run-all")
    page.wait_for_function(RUN_SETTLED, timeout=timeout)
    prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").all_inner_texts()
    not_run = [index for index, prompt in enumerate(prompts) if not re.search(r"\[\d+\]", prompt)]
    shown = "\n".join(errors_shown(page))
    assert not not_run, f"code cells {not_run} did not run; the notebook shows:\n{shown}"


def code_cell(page, index: int):
    """The locator of the code cell with this index (0 is the first)."""
    return page.locator(".jp-Notebook .jp-CodeCell").nth(index)


def start_cell(page, index: int) -> None:
    """Select code cell ``index`` and run it from the Run menu, without waiting for it to finish."""
    code_cell(page, index).locator(".jp-InputPrompt").click()
    run_command(page, "Run", "notebook:run-cell")


def run_cell(page, index: int, timeout: float = 60_000) -> None:
    """Run code cell ``index`` and wait until it has finished."""
    start_cell(page, index)
    wait_cell_done(page, index, timeout)


def wait_cell_done(page, index: int, timeout: float = 60_000) -> None:
    page.wait_for_function(CELL_DONE, arg=index, timeout=timeout)


def outputs(page, index: int):
    """The output area of code cell ``index``."""
    return code_cell(page, index).locator(".jp-OutputArea")


def errors_shown(page) -> list[str]:
    """The text of every error output in the notebook (a test prints them when it fails)."""
    return page.locator(".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                        ).all_inner_texts()


def expect(target, message: str | None = None):
    """Playwright's ``expect`` (imported on use, so this module loads where Playwright is missing)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target, message)
