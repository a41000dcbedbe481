"""Bounded reading: budgets that really stop a parse, special files refused, one sentence each."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from musicgen.errors import Cancelled, SeedError
from musicgen.io import read_melody, read_tunes
from musicgen.io.bounded import (ReaderBug, ReadBudget, TooComplexError, in_bounded_child,
                                 read_budget, run_bounded)
from tests.support import KESH_ABC


def _spin(seconds: float) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def _allocate(megabytes: int) -> int:
    hog = [bytearray(1024 * 1024) for _ in range(megabytes)]
    return len(hog)


def _raise(exc: BaseException) -> None:
    raise exc


def test_a_busy_parse_is_stopped_at_the_time_budget() -> None:
    start = time.monotonic()
    with pytest.raises(TooComplexError, match=r"tune.abc: it is too complex to read \(parsing "
                                              r"took longer than the 0.5 s limit\)\.") as info:
        run_bounded("tune.abc", _spin, 30, budget=ReadBudget(0.5, 256))
    # one CPU second (the limit's granularity), or the wall-clock backstop on a busy machine
    assert info.value.limit == "time" and time.monotonic() - start < 10


def test_a_parse_that_allocates_too_much_is_stopped_by_the_memory_budget() -> None:
    with pytest.raises(TooComplexError, match=r"big.abc: it is too complex to read \(parsing "
                                              r"needed more than the 64 MB memory limit\)\.") as info:
        run_bounded("big.abc", _allocate, 2000, budget=ReadBudget(20, 64))
    assert info.value.limit == "memory"
    assert run_bounded("small.abc", _allocate, 8, budget=ReadBudget(20, 64)) == 8


def test_results_and_our_errors_cross_the_process_boundary() -> None:
    assert run_bounded("x", _spin, 0) == "done"
    assert run_bounded("x", in_bounded_child) is True and not in_bounded_child()
    with pytest.raises(SeedError, match="^Cannot read x: broken.$"):
        run_bounded("x", _raise, SeedError("Cannot read x: broken."))


def test_a_foreign_exception_is_a_sentence_chained_to_the_bug() -> None:
    with pytest.raises(SeedError, match=r"^Cannot read tune.mid: the reader failed on it "
                                        r"unexpectedly, so the file is probably damaged\.$") as info:
        run_bounded("tune.mid", _raise, KeyError("velocity"))
    bug = info.value.__cause__
    assert isinstance(bug, ReaderBug) and bug.type_name == "KeyError" and "_raise" in bug.trace


def test_should_stop_ends_a_long_read_at_once() -> None:
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        run_bounded("slow.abc", _spin, 30, budget=ReadBudget(30, 256), should_stop=stop.is_set)
    assert time.monotonic() - start < 5


def test_budget_from_a_block_and_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from musicgen.io.bounded import default_budget

    monkeypatch.setenv("MUSICGEN_READ_SECONDS", "0.25")
    monkeypatch.setenv("MUSICGEN_READ_MEMORY_MB", "300")
    assert default_budget() == ReadBudget(0.25, 300)
    with read_budget(seconds=0.3):
        with pytest.raises(TooComplexError, match="0.3 s limit"):
            run_bounded("x", _spin, 10)
    monkeypatch.setenv("MUSICGEN_READ_SECONDS", "nonsense")
    assert default_budget() == ReadBudget()


def test_reads_from_a_thread_are_bounded_too(tmp_path: Path) -> None:
    """The app reads on a worker thread: the fork happens there, the child still answers."""
    path = tmp_path / "kesh.abc"
    path.write_text(KESH_ABC)
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(read_melody(path)))
    worker.start()
    worker.join(60)
    assert result and result[0].note_count > 20  # type: ignore[union-attr]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux /proc needed")
def test_a_killed_reader_takes_its_parsing_child_with_it(tmp_path: Path) -> None:
    """An app killed mid-read leaves no orphan parser (the kernel kills the child too)."""
    import signal
    import subprocess
    import sys

    code = ("from musicgen.io.bounded import run_bounded, ReadBudget\n"
            "from tests.hardening.test_read_budget import _spin\n"
            "run_bounded('x', _spin, 600, budget=ReadBudget(600, 256))\n")
    reader = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[2])
    children: list[int] = []
    deadline = time.monotonic() + 60
    while not children and time.monotonic() < deadline:
        time.sleep(0.1)
        for task in Path(f"/proc/{reader.pid}/task").glob("*/children"):
            children += [int(pid) for pid in task.read_text().split()]
    assert children, "the reader never forked"
    reader.send_signal(signal.SIGKILL)
    reader.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{children[0]}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    status = Path(f"/proc/{children[0]}/stat")
    assert not status.exists() or status.read_text().split()[2] == "Z"


# --- special files ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["tune.abc", "model.json", "song.mid"])
def test_a_fifo_is_refused_before_it_is_opened(tmp_path: Path, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(SeedError, match=rf"^Cannot read .*{name}: it is a named pipe \(FIFO\), "
                                        r"not a melody file\.$"):
        read_melody(fifo)
    with pytest.raises(SeedError, match="named pipe"):
        read_tunes(fifo)
    assert time.monotonic() - start < 2  # nothing blocked on the pipe


def test_devices_and_sockets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match=r"^Cannot read /dev/zero: it is a device, not a melody file\.$"):
        read_melody("/dev/zero")
    path = tmp_path / "s.abc"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(SeedError, match=r"s.abc: it is a socket, not a melody file\.$"):
            read_melody(path)
    finally:
        server.close()


def test_a_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "random.mid"
    link.symlink_to("/dev/urandom")
    with pytest.raises(SeedError, match="random.mid: it is a device"):
        read_melody(link)


def test_a_fifo_checkpoint_json_is_refused(tmp_path: Path) -> None:
    from musicgen.checkpoint import read_checkpoint_metadata
    from musicgen.errors import CheckpointError

    os.mkfifo(tmp_path / "model.json")
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(CheckpointError, match="model.json.*not a regular file"):
        read_checkpoint_metadata(tmp_path / "model.json")
