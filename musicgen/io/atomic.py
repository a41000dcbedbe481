"""Atomic file writes: a temporary file in the target folder, fsync, then os.replace.

On any failure the previous file (if any) is untouched and no temporary file is left behind. A
process killed mid-write (SIGKILL, power loss) cannot clean up, so every temporary file carries
its writer's process id (``.NAME.PID.RANDOM.tmp``) and the next write into the same folder
removes those whose writer is gone (`sweep_stale_temporaries`).

`atomic_write_pair` writes two files that must match, a data file and the index that vouches for
it by checksum (a checkpoint's ``.safetensors`` and ``.json``): the new data waits beside the old
as ``DATA.pending-PID`` until the index is replaced (the commit), then takes the old data's
place. A kill at any moment leaves the old pair, the new pair, or the new index with its data
pending, which `settle_pending` (called by the reader on a checksum mismatch) puts in place.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from musicgen.errors import WriteError

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_pair",
    "settle_pending",
    "sweep_stale_temporaries",
    "pending_paths",
]

_TEMP = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")
_PENDING = re.compile(r"\.pending-(\d+)$")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically; raise WriteError naming the file on failure."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise WriteError(f"Cannot write {target}: the folder {folder} does not exist.")
    if target.is_dir():
        raise WriteError(f"Cannot write {target}: it is a folder.")
    sweep_stale_temporaries(folder)
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp",
                                        dir=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain open() would have:
        # the old file's mode when replacing one, else 0666 less the umask.
        os.chmod(tmp_name, _mode_for(target))
        os.replace(tmp_name, target)
        tmp_name = None
        _fsync_folder(folder)
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


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the rename is still atomic
    finally:
        os.close(fd)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically (UTF-8 by default, newlines as given)."""
    return atomic_write_bytes(path, text.encode(encoding))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or we cannot tell: leave its files alone
    return True


def sweep_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files of writers that died mid-write in `folder`; the removed paths."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def pending_paths(data_path: str | os.PathLike[str]) -> list[Path]:
    """The pending data files of `data_path` (``DATA.pending-PID``), newest first."""
    path = Path(data_path)
    try:
        found = [p for p in path.parent.glob(glob_escape(path.name) + ".pending-*")
                 if _PENDING.search(p.name)]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.stat().st_mtime if p.exists() else 0, reverse=True)


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def atomic_write_pair(data_path: str | os.PathLike[str], data: bytes,
                      index_path: str | os.PathLike[str], index: bytes) -> None:
    """Write `data` and the `index` that vouches for it so that no kill leaves them mismatched.

    1. the data goes to ``DATA.pending-PID`` (atomic); 2. the index replaces the old one (the
    commit); 3. the pending data replaces the old data. The old pair stays whole until 2; after
    it, `settle_pending` finishes 3 for whoever reads next.
    """
    data_path, index_path = Path(data_path), Path(index_path)
    pending = data_path.with_name(f"{data_path.name}.pending-{os.getpid()}")
    atomic_write_bytes(pending, data)
    try:
        atomic_write_bytes(index_path, index)
    except WriteError:
        with contextlib.suppress(OSError):
            pending.unlink()
        raise
    try:
        os.replace(pending, data_path)
        _fsync_folder(data_path.parent)
    except FileNotFoundError:
        pass  # a reader settled it a moment ago: the new data is in place
    except OSError as exc:
        raise WriteError(f"Cannot write {data_path}: {exc.strerror or exc}.") from exc
    for other in pending_paths(data_path):  # leftovers of killed writers: the commit made them stale
        match = _PENDING.search(other.name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                other.unlink()


def settle_pending(data_path: str | os.PathLike[str], matches: Callable[[bytes], bool]) -> bytes | None:
    """Finish an interrupted `atomic_write_pair`: the pending data `matches` accepts (it fits
    the index) replaces the data file and is returned; pending files of dead writers that do not
    fit are removed. None when no pending data fits."""
    data_path = Path(data_path)
    found = None
    for pending in pending_paths(data_path):
        try:
            data = pending.read_bytes()
        except OSError:
            continue
        if found is None and matches(data):
            found = data
            with contextlib.suppress(OSError):
                os.replace(pending, data_path)
            continue
        match = _PENDING.search(pending.name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                pending.unlink()
    return found
