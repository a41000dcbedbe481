"""Atomic file writes: a temporary file in the target folder, fsync, then os.replace.

On any failure the previous file (if any) is untouched and no temporary file is left behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from musicgen.errors import WriteError

__all__ = ["atomic_write_bytes", "atomic_write_text"]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically; raise WriteError naming the file on failure."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise WriteError(f"Cannot write {target}: the folder {folder} does not exist.")
    if target.is_dir():
        raise WriteError(f"Cannot write {target}: it is a folder.")
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain open() would have:
        # the old file's mode when replacing one, else 0666 less the umask.
        os.chmod(tmp_name, _mode_for(target))
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WriteError(f"Cannot write {target}: {reason}.") from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass  # the temp file vanished already; nothing else to clean up
    return target


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically (UTF-8 by default, newlines as given)."""
    return atomic_write_bytes(path, text.encode(encoding))
