"""A private PulseAudio server with a null sink, and `parec` recordings of what was played into it.

Reusable by any GUI test that needs a real audio device: import the fixture into a test module
(``from tests.support.audio import pulse_server``). The server listens on a socket under a temporary
folder (never the user's own server); the fixture sets PULSE_SERVER for the test process only.

Caveat: Qt connects to PulseAudio once per process. If anything in the process looked for audio
devices before the server started (for instance a main window that built an `AudioPlayer` and
pressed play), Qt keeps seeing no device. Tests that must hear real audio therefore run in a fresh
interpreter: see tests/gui/test_audio_e2e.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

__all__ = [
    "PULSE_BINARIES",
    "PulseServer",
    "Recording",
    "missing_pulse_binaries",
    "pulse_server",
    "skip_reason",
    "start_pulse_server",
]

PULSE_BINARIES = ("pulseaudio", "parec", "pactl")
SINK_NAME = "musicgen_null"


def skip_reason(missing: list[str]) -> str:
    return f"PulseAudio programs not installed: {', '.join(missing)} (make test installs them)"


def missing_pulse_binaries() -> list[str]:
    """The PulseAudio programs this module needs that are not installed."""
    return [name for name in PULSE_BINARIES if shutil.which(name) is None]


@dataclass
class Recording:
    """`parec` writing the null sink's monitor (raw s16le mono) to a file while it runs."""

    path: Path
    process: subprocess.Popen[bytes]
    sample_rate_hz: int

    def has_started(self) -> bool:
        """True once parec has delivered audio (it takes a moment to connect)."""
        return self.path.stat().st_size > 0

    def samples(self) -> np.ndarray:
        """Everything recorded so far, as float32 in [-1, 1]."""
        raw = self.path.read_bytes()
        raw = raw[: len(raw) // 2 * 2]
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0

    def stop(self) -> np.ndarray:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        return self.samples()


@dataclass
class PulseServer:
    """A running private PulseAudio daemon with one null sink."""

    process: subprocess.Popen[bytes]
    socket: Path
    sample_rate_hz: int
    log: Path
    recordings: list[Recording] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"unix:{self.socket}"

    def record(self, path: Path) -> Recording:
        """Start recording the null sink's monitor into `path` (stopped with the server)."""
        handle = path.open("wb")
        command = [
            "parec", f"--server={self.address}", f"--device={SINK_NAME}.monitor", "--raw",
            "--format=s16le", f"--rate={self.sample_rate_hz}", "--channels=1", "--latency-msec=20",
        ]
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.DEVNULL)
        handle.close()
        recording = Recording(path, process, self.sample_rate_hz)
        self.recordings.append(recording)
        return recording

    def stop(self) -> None:
        for recording in self.recordings:
            recording.stop()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _server_answers(address: str) -> bool:
    result = subprocess.run(
        ["pactl", f"--server={address}", "list", "short", "sinks"],
        capture_output=True, text=True, timeout=10, check=False,
    )
    return result.returncode == 0 and SINK_NAME in result.stdout


def start_pulse_server(
    base: Path, sample_rate_hz: int = 44100, timeout_s: float = 15.0
) -> PulseServer:
    """Start `pulseaudio` on a socket under `base` with a null sink, and wait until it answers.

    It runs as a user daemon even for root (``--system=false``), with HOME and the XDG folders
    under `base`, so it touches no real configuration and no other server.
    """
    for name in ("home", "runtime", "config", "state"):
        (base / name).mkdir(parents=True, exist_ok=True)
    (base / "runtime").chmod(0o700)
    socket = base / "runtime" / "pulse.sock"
    env = dict(os.environ, HOME=str(base / "home"), XDG_RUNTIME_DIR=str(base / "runtime"),
               XDG_CONFIG_HOME=str(base / "config"), XDG_STATE_HOME=str(base / "state"))
    env.pop("PULSE_SERVER", None)
    command = [
        "pulseaudio", "-n", "--daemonize=no", "--system=false", "--exit-idle-time=-1",
        "--use-pid-file=false", "--disallow-module-loading=false", "--log-target=stderr",
        "-L", f"module-native-protocol-unix socket={socket} auth-anonymous=1",
        "-L", f"module-null-sink sink_name={SINK_NAME} rate={sample_rate_hz} channels=1",
    ]
    log = base / "pulseaudio.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
    server = PulseServer(process, socket, sample_rate_hz, log)
    deadline = time.monotonic() + timeout_s
    # Not a GUI wait: polling a separate daemon's socket until it accepts clients.
    while not (socket.exists() and _server_answers(server.address)):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pulseaudio did not start: {tail}")
        time.sleep(0.05)
    return server


@pytest.fixture(scope="module")
def pulse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    """A private PulseAudio server for the module; PULSE_SERVER points at it meanwhile."""
    missing = missing_pulse_binaries()
    if missing:
        pytest.skip(skip_reason(missing))
    server = start_pulse_server(tmp_path_factory.mktemp("pulse"))
    previous = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = server.address
    try:
        yield server
    finally:
        if previous is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = previous
        server.stop()
