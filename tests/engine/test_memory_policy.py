"""``import nbframe`` keeps freed array memory in the process on glibc (nbframe.memory), unless told
not to."""

from __future__ import annotations

import subprocess
import sys

import pytest

import nbframe.memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_import_tunes_malloc_once():
    assert nbframe.memory.state is True
    assert nbframe.memory.keep_freed_memory() is True  # a second call changes nothing


def test_nbframe_malloc_default_leaves_malloc_alone():
    code = "import nbframe.memory as m; print(m.state)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "NBFRAME_MALLOC": "default"},
    )
    assert result.stdout.strip() == "NBFRAME_MALLOC=default", result.stderr
