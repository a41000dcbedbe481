"""Reading under budgets: a parser runs in a forked child with a wall-clock and a memory limit.

music21 and mido are pure-Python parsers of untrusted files; a hostile or mutated file can keep them
busy for minutes or make them allocate until the machine swaps. A thread cannot be stopped from
outside, so `run_bounded` forks: the child limits its CPU time (`RLIMIT_CPU`: the time budget;
the kernel stops it) and its address space (`RLIMIT_AS`: what it has now plus the memory budget),
runs the parser and pipes back the pickled result. The budget counts CPU seconds, so a machine
busy with other work does not turn a good file into a "too complex" one; the parent also stops
waiting after `WALL_FACTOR` times the budget (a child that sleeps or blocks) and kills the child.
Fork is cheap (about 10 ms with torch loaded) and inherits every module the parent imported:
`warm_imports` loads the parsers there once, so no child pays for importing music21.

Outcomes: the parser's value; its `MusicGenError` re-raised as is; `TooComplexError` (a
`SeedError`) when a budget ran out ("too complex to read"); for any other exception a `SeedError`
chained to a `ReaderBug` that carries the child's traceback (the fuzz tests count those as bugs).
Calls made inside a child run inline, so nesting costs nothing. `should_stop` is polled while
waiting: a closed window does not wait for a long parse.

Budgets: `ReadBudget` (default 5 CPU seconds, 768 MB; ``MUSICGEN_READ_SECONDS`` and
``MUSICGEN_READ_MEMORY_MB`` override), or `read_budget(...)` for a block of code. Where there is no
``os.fork`` (Windows) the parser runs inline, with the size caps of `safety` as the only bound.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import pickle
import select
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from musicgen.errors import Cancelled, MusicGenError, SeedError
from musicgen.progress import StopFn

__all__ = [
    "ReadBudget",
    "TooComplexError",
    "ReaderBug",
    "default_budget",
    "read_budget",
    "run_bounded",
    "in_bounded_child",
    "warm_imports",
    "WALL_FACTOR",
]

T = TypeVar("T")
_POLL_S = 0.05  # how often the parent looks at should_stop while it waits
WALL_FACTOR = 3.0  # wall-clock backstop: this many times the CPU budget (plus two seconds)


@dataclass(frozen=True)
class ReadBudget:
    """How long one read may take and how much memory it may add."""

    seconds: float = 5.0  # CPU time of the parse; a folk tune parses in ~0.1 s
    memory_mb: int = 768  # address space the child may add to what it inherited


class TooComplexError(SeedError):
    """A read was stopped because it exceeded its time or memory budget (`limit`: which)."""

    def __init__(self, message: str, limit: str = "") -> None:
        super().__init__(message)
        self.limit = limit  # "time", "memory" or "crash"

    def __reduce__(self) -> tuple:
        return (type(self), (str(self), self.limit))


class ReaderBug(Exception):
    """An exception a reader should have turned into a SeedError; carries the child's traceback."""

    def __init__(self, type_name: str, message: str, trace: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.trace = trace


def default_budget() -> ReadBudget:
    """The budget from the environment, else `ReadBudget()`'s defaults."""
    base = ReadBudget()
    try:
        seconds = float(os.environ.get("MUSICGEN_READ_SECONDS", base.seconds))
        memory = int(os.environ.get("MUSICGEN_READ_MEMORY_MB", base.memory_mb))
    except ValueError:
        return base
    if not (seconds > 0 and memory > 0):
        return base
    return ReadBudget(seconds, memory)


_budget: contextvars.ContextVar[ReadBudget | None] = contextvars.ContextVar("read_budget", default=None)
_in_child = False


@contextlib.contextmanager
def read_budget(seconds: float | None = None, memory_mb: int | None = None) -> Iterator[ReadBudget]:
    """Reads inside the block use this budget (unset fields keep the current one)."""
    current = _budget.get() or default_budget()
    budget = ReadBudget(current.seconds if seconds is None else float(seconds),
                        current.memory_mb if memory_mb is None else int(memory_mb))
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


_warmed: set[str] = set()


def warm_imports(*modules: str) -> None:
    """Import `modules` in this process once (not in a child), so every forked child has them."""
    if _in_child:
        return
    import importlib

    for name in modules:
        if name not in _warmed:
            _warmed.add(name)
            try:
                importlib.import_module(name)
            except ImportError:
                pass  # only a head start: the child imports what it needs itself


def in_bounded_child() -> bool:
    """True inside the child of `run_bounded` (nested calls then run inline)."""
    return _in_child


def run_bounded(
    name: str,
    fn: Callable[..., T],
    /,
    *args: Any,
    budget: ReadBudget | None = None,
    should_stop: StopFn | None = None,
    **kwargs: Any,
) -> T:
    """``fn(*args, **kwargs)`` in a child under `budget`; `name` is the file the messages name."""
    if _in_child or not hasattr(os, "fork"):
        return fn(*args, **kwargs)
    budget = budget or _budget.get() or default_budget()
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # no process to spare: read inline rather than not at all
        os.close(read_fd)
        os.close(write_fd)
        return fn(*args, **kwargs)
    if pid == 0:  # pragma: no cover - the child; its outcome is what the parent reports
        os.close(read_fd)
        _child(write_fd, budget, fn, args, kwargs, parent)
    os.close(write_fd)
    try:
        payload, status = _collect(pid, read_fd, budget, should_stop, name)
    finally:
        os.close(read_fd)
    return _outcome(payload, status, budget, name)


def _child(write_fd: int, budget: ReadBudget, fn: Callable[..., Any], args: tuple, kwargs: dict,
           parent: int) -> None:
    """Run in the forked child: never returns (os._exit skips the parent's atexit and Qt)."""
    global _in_child
    code = 0
    try:
        _in_child = True
        with contextlib.suppress(ValueError, OSError):  # Ctrl+C in a terminal ends the child too
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        _die_with_parent(parent)
        _limit_memory(budget.memory_mb)
        _limit_cpu(budget.seconds)
        try:
            result: tuple = ("ok", fn(*args, **kwargs))
        except MemoryError:
            result = ("memory",)
        except MusicGenError as exc:
            result = ("error", exc)
        except BaseException as exc:  # noqa: BLE001 - every other exception is a reader bug to report
            result = ("bug", type(exc).__name__, str(exc)[:500], traceback.format_exc()[-4000:])
        try:
            data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps(("memory",))
        except Exception as exc:  # an unpicklable value or exception
            data = pickle.dumps(("bug", type(exc).__name__, str(exc)[:500], traceback.format_exc()))
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
    except MemoryError:
        code = 3
    except BaseException:  # noqa: BLE001 - the parent reports a child that ended without a result
        code = 4
    finally:
        os._exit(code)


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills the child if the reader that forked it goes (a killed app)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux: the CPU limit still ends an orphan within the budget
    if os.getppid() != parent:  # the parent went before prctl took effect
        os._exit(5)


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: no address-space limit
        return
    current = _address_space_bytes()
    if current is None:
        return
    limit = current + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _cpu_limit(seconds: float | ReadBudget) -> int:
    seconds = seconds.seconds if isinstance(seconds, ReadBudget) else seconds
    return max(1, math.ceil(seconds))


def _limit_cpu(seconds: float) -> None:
    """SIGXCPU (which ends the process) after `seconds` of CPU time, SIGKILL a second later."""
    try:
        import resource
    except ImportError:
        return
    limit = _cpu_limit(seconds)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file when SIGXCPU ends it
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY or hard > limit + 1:
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))


def _address_space_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as handle:
            pages = int(handle.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _collect(pid: int, read_fd: int, budget: ReadBudget, should_stop: StopFn | None,
             name: str) -> tuple[bytes | None, int | None]:
    """The child's payload and wait status; (None, None) when the time budget ran out (CPU
    limit, or `WALL_FACTOR` times it on the wall clock)."""
    deadline = time.monotonic() + budget.seconds * WALL_FACTOR + 2.0
    chunks: list[bytes] = []
    finished = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, None
            if should_stop is not None and should_stop():
                raise Cancelled(f"Reading {name} was stopped.")
            ready, _, _ = select.select([read_fd], [], [], min(remaining, _POLL_S))
            if ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        _, status, usage = os.wait4(pid, 0)
        finished = True
        if os.WIFSIGNALED(status) and (os.WTERMSIG(status) == signal.SIGXCPU or (
                os.WTERMSIG(status) == signal.SIGKILL
                and usage.ru_utime + usage.ru_stime >= _cpu_limit(budget) - 0.1)):
            return None, None  # the CPU limit ended it (SIGXCPU, or SIGKILL at the hard limit)
        return b"".join(chunks), status
    finally:
        if not finished:
            _kill(pid)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it ended by itself a moment ago; waitpid still reaps it
    os.waitpid(pid, 0)


def _outcome(payload: bytes | None, status: int | None, budget: ReadBudget, name: str) -> Any:
    if payload is None:
        raise TooComplexError(f"Cannot read {name}: it is too complex to read (parsing took longer "
                              f"than the {budget.seconds:g} s limit).", "time")
    result: tuple | None = None
    if payload:
        try:
            result = pickle.loads(payload)
        except Exception:  # a torn payload: the child died while writing it
            result = None
    if result is None or result[0] == "memory":
        if result is None and status is not None and os.WIFSIGNALED(status) \
                and os.WTERMSIG(status) not in (signal.SIGKILL,):
            raise TooComplexError(f"Cannot read {name}: the reader crashed on it (signal "
                                  f"{os.WTERMSIG(status)}), so the file is damaged or too complex "
                                  "to read.", "crash")
        raise TooComplexError(f"Cannot read {name}: it is too complex to read (parsing needed more "
                              f"than the {budget.memory_mb} MB memory limit).", "memory")
    kind = result[0]
    if kind == "ok":
        return result[1]
    if kind == "error":
        raise result[1]
    bug = ReaderBug(*result[1:4])
    raise SeedError(f"Cannot read {name}: the reader failed on it unexpectedly, so the file is "
                    "probably damaged.") from bug
