"""Get dataset files into place: from the dataset folder, the cache folder, or the network, MD5-checked.

The cache folder is ``$NBFRAME_DATA_CACHE`` if set, else ``~/.cache/nbframe/datasets``;
each dataset has its own sub-folder there. A file found in the cache is copied into
the dataset's ``raw`` folder; a downloaded file goes to the cache first. Without a
network, the error says which file (and checksum) to place where.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path


def cache_dir() -> Path:
    """Where downloaded dataset files are kept for every project on this machine."""
    return Path(os.environ.get("NBFRAME_DATA_CACHE") or Path.home() / ".cache" / "nbframe" / "datasets")


def md5sum(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_md5(path: Path, md5: str | None) -> None:
    """Raise a clear error when ``path``'s MD5 is not ``md5`` (no check when ``md5`` is None)."""
    if md5 is None:
        return
    got = md5sum(path)
    if got != md5:
        raise RuntimeError(f"checksum mismatch for {path}: its MD5 is {got}, expected {md5}. The file is "
                           "corrupt or a different version; delete it and place the right file there (or let "
                           "download=True fetch it again).")


def fetch(filename: str, md5: str | None, dest_folder: Path, dataset: str, mirrors: Sequence[str]) -> Path:
    """Make ``dest_folder/filename`` exist with the right checksum; returns its path."""
    dest = dest_folder / filename
    if dest.exists():
        check_md5(dest, md5)
        return dest
    cached = cache_dir() / dataset / filename
    if not cached.exists():
        _download_to(cached, filename, md5, dest_folder, mirrors)
    check_md5(cached, md5)
    dest_folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, dest)
    return dest


def _download_to(target: Path, filename: str, md5: str | None, dest_folder: Path,
                 mirrors: Sequence[str]) -> None:
    errors = []
    for mirror in mirrors:
        url = mirror + filename
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with urllib.request.urlopen(url, timeout=30) as response, \
                    tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
                shutil.copyfileobj(response, tmp)
            os.replace(tmp.name, target)
            return
        except OSError as exc:  # URLError, timeouts and refused connections are all OSErrors
            errors.append(f"{url}: {exc}")
    tried = "; ".join(errors) if errors else "no download mirrors are configured"
    checksum = f" (MD5 {md5})" if md5 else ""
    raise RuntimeError(f"could not download {filename} ({tried}). Without network access, place the file "
                       f"{filename}{checksum} in {dest_folder} or in the cache folder {target.parent}, "
                       f"then run "
                       "again.")
