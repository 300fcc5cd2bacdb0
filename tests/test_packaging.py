"""The wheel carries every source file: the package-dir mapping silently drops unlisted sub-folders."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {
    "nbframe": "nbframe",
    "magics": "nbframe/magics",
    "widgets": "nbframe/widgets",
    "kernels": "nbframe/kernels",
}


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=out,
    )
    (wheel,) = out.glob("nbframe-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def test_every_source_file_is_in_the_wheel(wheel_names):
    missing = []
    for folder, installed_as in MAPPING.items():
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".cu", ".js") or "__pycache__" in path.parts:
                continue
            name = installed_as + "/" + path.relative_to(ROOT / folder).as_posix()
            if name not in wheel_names:
                missing.append(name)
    assert not missing, f"not in the wheel (add the sub-package to pyproject's packages list): {missing}"
