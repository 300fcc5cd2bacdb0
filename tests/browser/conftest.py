"""Fixtures for the browser tests: a private JupyterLab server and a headless Debian Chromium.

The server runs this very Python on 127.0.0.1 (free port, random token), with its root folder, Jupyter
config/data/runtime folders, IPython folder, lab settings and workspaces all in a temporary folder, so
nothing in the user's home is read or written. Its kernel spec (``tests/notebook_kernel.py``) points at
this Python. It is stopped through its REST API and then by its own process id, nothing broader.

Every test here is marked ``browser`` and is skipped, saying what is missing, when Chromium
(``/usr/bin/chromium``, Debian's package), ``jupyterlab`` or ``playwright`` is not installed;
``.ci/browser-deps.sh`` installs them. Playwright's own browser download is never used.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..notebook_kernel import kernel_spec

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
KERNEL = "nbframe-browser-test"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
HERE = Path(__file__).resolve().parent
SERVER_START_TIMEOUT = 90.0

# JupyterLab user settings: every cell stays in the DOM (no windowing, so locators see all of them), no
# news or update checks (no network, no toast over the notebook), no kernel-choice dialog.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def missing_requirements() -> list[str]:
    """What the browser tests need and this machine lacks (empty when they can run)."""
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    for module, package in (("jupyterlab", "jupyterlab"), ("playwright.sync_api", "playwright"),
                            ("ipykernel", "ipykernel")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(f"the Python package {package}")
    return missing


def pytest_collection_modifyitems(config, items):
    """Mark every test in this folder ``browser``; skip them, saying why, when a requirement is missing."""
    missing = missing_requirements()
    skip = pytest.mark.skip(reason="browser test needs " + ", ".join(missing) + "; run .ci/browser-deps.sh")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so the page fixture knows whether its test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _die_with_parent() -> None:
    """In the server process (Linux): SIGTERM when pytest dies, so no server outlives a killed run."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: where it listens, its token and the folder it serves."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def api(self, path: str, method: str = "GET", body: dict | None = None):
        """Call the server's REST API; returns the decoded JSON (None for an empty answer)."""
        request = urllib.request.Request(
            f"{self.url}api/{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    def open_url(self, notebook: str, workspace: str) -> str:
        """The address that opens ``notebook`` in a fresh, empty workspace of its own."""
        return f"{self.url}lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        """Shut down every kernel this server started (the next test starts from a quiet machine)."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def write_lab_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        package, name = plugin.rsplit("/", 1)
        path = settings_dir / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def wait_until_answering(lab: Lab, deadline: float) -> None:
    """Poll the server's status endpoint until it answers, failing early (with its log) if it exits."""
    while True:
        if lab.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {lab.process.returncode}:\n{lab.log_tail()}")
        try:
            lab.api("status")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer at {lab.url} within "
                                   f"{SERVER_START_TIMEOUT:.0f} s:\n{lab.log_tail()}") from None
            time.sleep(0.2)


def stop(lab: Lab) -> None:
    """Shut the server down through its API (it stops its kernels), then by its own pid if it lingers."""
    if lab.process.poll() is None:
        try:
            lab.shutdown_kernels()
            lab.api("shutdown", method="POST")
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
    try:
        lab.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        lab.process.terminate()
        try:
            lab.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            lab.process.kill()
            lab.process.wait(timeout=10)


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Iterator[Lab]:
    """A JupyterLab server of our own with a kernel spec for this Python; stopped when the session ends."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root, home = base / "root", base / "home"
    root.mkdir()
    config = home / "config"
    write_lab_settings(config / "lab" / "user-settings")
    with kernel_spec(base / "kernel", KERNEL):  # the spec stays in the prefix after the block
        env = dict(os.environ)
    env.update({
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(config / "lab" / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    })
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--ServerApp.terminals_enabled=False",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = base / "jupyterlab.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                   stderr=subprocess.STDOUT,
                                   preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    server = Lab(url=f"http://127.0.0.1:{port}/", token=token, root=root, process=process, log=log)
    try:
        wait_until_answering(server, time.monotonic() + SERVER_START_TIMEOUT)
        yield server
    finally:
        stop(server)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, launched by Playwright (never Playwright's own download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, lab, request):
    """A fresh browser page; a screenshot is saved when its test fails; the test's kernels are shut down."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            try:
                tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"), full_page=True)
            except Exception as error:  # a failed screenshot must not hide the test's own failure
                print(f"failure screenshot not saved: {error}")
        context.close()
        lab.shutdown_kernels()


@pytest.fixture
def artifacts() -> Path:
    """The folder for screenshots (``test-artifacts/browser``, gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

