"""The real window under stress: overlapping work, closing mid-task, hostile files and folders.

Each test drives the window offscreen as a user would and checks that it behaves sensibly: the
work that was asked for last is the work that counts, closing stops every job and leaves a valid
settings file, and every failure is one sentence in a dialog with the current state kept.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from gui.export_tasks import ExportRequest
from tests.support import KESH_ABC, MUSICXML
from tests.support.gui import generate_and_wait, open_and_wait, select_model

pytestmark = pytest.mark.slow
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


def _idle(win) -> bool:
    return win.worker._pool.activeThreadCount() == 0 and not win.worker.active_jobs


def _errors(win) -> list[str]:
    shown: list[str] = []
    win.dialogs.error_shown.connect(shown.append)
    return shown


def _model_of(melody) -> str:
    return dict(melody.metadata).get("model", "")


# --- overlapping work -----------------------------------------------------------------------------
def test_generate_while_the_model_loads(qtbot, models_window) -> None:
    """Generate pressed while the chosen model is still loading waits for it, then generates."""
    win = models_window
    errors = _errors(win)
    path = select_model(win, "transformer")  # starts loading in the worker
    melodies = generate_and_wait(qtbot, win)
    assert melodies and all("transformer" in _model_of(m) for m in melodies), melodies
    assert win.recall.key_for(melodies[0]) == path and errors == []


def test_switching_models_mid_generation(qtbot, models_window) -> None:
    """The running generation finishes with its model and is remembered as that model's; the
    next one uses the newly chosen model."""
    win = models_window
    transformer = select_model(win, "transformer")
    with qtbot.waitSignal(win.models.model_ready, timeout=60000):
        pass
    win.ui.sampling.replace_values(variations=6, bars=24, new_seed_each_time=False)
    with qtbot.waitSignal(win.generation.generation_finished, timeout=120000) as done:
        job = win.generation.generate()
        with qtbot.waitSignal(job.progress, timeout=60000):
            pass
        lstm = select_model(win, "lstm")  # mid-generation
    first = done.args[0]
    assert all("transformer" in _model_of(m) for m in first)
    assert win.recall.key_for(first[0]) == transformer  # not the model chosen meanwhile
    win.ui.sampling.replace_values(variations=2, bars=2)
    second = generate_and_wait(qtbot, win)
    assert all("lstm" in _model_of(m) for m in second) and win.recall.key_for(second[0]) == lstm


# --- closing mid-task -----------------------------------------------------------------------------
def _close_and_check(qtbot, win, settings_path: Path) -> float:
    """Close the window; the seconds it took. Every job stopped, the settings file whole."""
    from PySide6.QtCore import QSettings

    from gui.settings import AppSettings

    values = win.ui.sampling.values()
    start = time.monotonic()
    assert win.close()
    took = time.monotonic() - start
    qtbot.waitUntil(lambda: _idle(win), timeout=60000)  # no thread left running
    check = QSettings(str(settings_path), QSettings.Format.IniFormat)
    assert check.status() == QSettings.Status.NoError
    from gui.widgets.sampling_panel import SAMPLING_DEFAULTS

    assert AppSettings(settings_path).sampling(SAMPLING_DEFAULTS) == values
    return took


def test_closing_while_generating(qtbot, models_window, tmp_path: Path) -> None:
    win = models_window
    select_model(win, "transformer")
    win.ui.sampling.replace_values(variations=8, bars=64, new_seed_each_time=False, temperature=0.7)
    job = win.generation.generate()
    with qtbot.waitSignal(job.progress, timeout=60000):
        pass
    took = _close_and_check(qtbot, win, tmp_path / "settings.ini")
    assert job.stop_requested and took < 10


def test_closing_while_playing(qtbot, window, seed_files, tmp_path: Path) -> None:
    from PySide6.QtCore import QObject, Signal

    class HeldPlayer(QObject):  # a sound device that plays until stopped
        position_changed = Signal(float)
        finished = Signal()
        unavailable = Signal(str)
        loop = False
        playing = False

        def play(self, pcm, rate, start):
            HeldPlayer.playing = True
            return True

        def stop(self):
            HeldPlayer.playing = False

    window.playback._factory = lambda parent: HeldPlayer(parent)
    open_and_wait(qtbot, window, seed_files["kesh"])
    window.transport.toggle()
    qtbot.waitUntil(lambda: HeldPlayer.playing, timeout=30000)
    _close_and_check(qtbot, window, tmp_path / "settings.ini")
    assert not HeldPlayer.playing and not window.playback.is_playing


def test_closing_while_preparing_the_corpus(qtbot, tmp_path: Path, isolated_user_dirs) -> None:
    """Closing stops the preparation (its worker processes too); the next start prepares it."""
    import multiprocessing

    from gui.main_window import MainWindow
    from gui.settings import AppSettings
    from tests.support import write_abc_corpus

    corpus = write_abc_corpus(tmp_path / "corpus", count=80)
    win = MainWindow(AppSettings(tmp_path / "settings.ini"), corpus=str(corpus))
    qtbot.addWidget(win)
    win.show()
    before = set(multiprocessing.active_children())  # e.g. the score view's long-lived pool
    job = win.seeds.load_corpus()
    with qtbot.waitSignal(job.progress, timeout=60000):
        pass
    _close_and_check(qtbot, win, tmp_path / "settings.ini")
    assert job.stop_requested
    left = set(multiprocessing.active_children()) - before  # the parsing processes are gone
    assert not left, [(c.name, c.pid) for c in left]
    from musicgen.corpus import load_corpus

    assert len(load_corpus(str(corpus)).tunes) == 80  # nothing half-written stands in the way


# --- many files, hostile files ---------------------------------------------------------------------
def _fifty_files(folder: Path, good_last: bool) -> list[Path]:
    folder.mkdir()
    kinds = {"kesh.abc": KESH_ABC.encode(), "air.musicxml": MUSICXML.encode(),
             "image.mid": PNG, "empty.abc": b"", "broken.musicxml": b"<score-partwise><part>",
             "bomb.abc": b"X:1\nM:1000000/4\nK:C\nCDEF|\n"}
    paths = []
    for i in range(50):
        name, data = list(kinds.items())[i % len(kinds)]
        path = folder / f"{i:02d}-{name}"
        path.write_bytes(data)
        paths.append(path)
    os.mkfifo(folder / "pipe.abc")
    paths[25] = folder / "pipe.abc"
    if good_last:
        paths[-1] = folder / "49-last.abc"
        paths[-1].write_text(KESH_ABC.replace("The Kesh", "The Last One"))
    return paths


def test_opening_50_files_in_a_row(qtbot, window, tmp_path: Path) -> None:
    """One after another: each good file becomes the seed, each bad one is one sentence and
    keeps the seed, a named pipe is refused at once; no job is left behind."""
    errors = _errors(window)
    seed = None
    for path in _fifty_files(tmp_path / "one-by-one", good_last=False):
        before = len(errors)
        job = window.seeds.open_path(str(path))
        qtbot.waitUntil(lambda: job.done and _idle(window), timeout=60000)
        if len(errors) > before:
            assert path.name in errors[-1] and "\n" not in errors[-1]
            assert window.seed.melody is seed  # kept
        else:
            seed = window.seed.melody
            assert seed is not None and window.seed.path == str(path)
    assert len(errors) == 32 + 1 and seed is not None  # 4 kinds of 6 are bad, and the pipe


def test_opening_50_files_without_waiting(qtbot, window, tmp_path: Path) -> None:
    """Fifty opens in a burst: the last file asked for is the seed, stale reads are dropped and
    their failures are not shown."""
    errors = _errors(window)
    paths = _fifty_files(tmp_path / "burst", good_last=True)
    for path in paths:
        window.seeds.open_path(str(path))
    qtbot.waitUntil(lambda: _idle(window) and window.seed.path == str(paths[-1]), timeout=120000)
    assert window.seed.melody.title == "The Last One" and errors == []


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_exporting_to_a_full_disk_or_a_read_only_folder(qtbot, models_window, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       failure: int) -> None:
    """The export fails with one sentence naming the file, the previous file is untouched, no
    temporary file is left, and the next export (space freed) works."""
    import tempfile

    win = models_window
    win.ui.sampling.replace_values(variations=1, bars=2)
    generate_and_wait(qtbot, win)
    target = tmp_path / "out" / "tune.mid"
    target.parent.mkdir()
    target.write_bytes(b"the previous export")
    real_mkstemp = tempfile.mkstemp

    def refuse(*args, **kwargs):
        raise OSError(failure, os.strerror(failure))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(win.dialogs, "confirm", lambda *a, **k: True)  # replace the old export
    errors = _errors(win)
    with qtbot.waitSignal(win.dialogs.error_shown, timeout=60000):
        win.export.export_with(ExportRequest(str(target), ".mid"))
    assert "tune.mid" in errors[-1] and os.strerror(failure) in errors[-1]
    assert target.read_bytes() == b"the previous export"
    assert sorted(p.name for p in target.parent.iterdir()) == ["tune.mid"]
    monkeypatch.setattr(tempfile, "mkstemp", real_mkstemp)
    with qtbot.waitSignal(win.export.export_finished, timeout=60000):
        win.export.export_with(ExportRequest(str(target), ".mid"))
    assert target.read_bytes()[:4] == b"MThd"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_exporting_to_a_real_read_only_folder(qtbot, models_window, tmp_path: Path) -> None:
    win = models_window
    win.ui.sampling.replace_values(variations=1, bars=2)
    generate_and_wait(qtbot, win)
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with qtbot.waitSignal(win.dialogs.error_shown, timeout=60000) as shown:
            win.export.export_with(ExportRequest(str(folder / "tune.mid"), ".mid"))
        assert "tune.mid" in shown.args[0] and "ermission" in shown.args[0]
    finally:
        folder.chmod(0o755)


def test_a_corrupted_settings_file(qtbot, tmp_path: Path, isolated_user_dirs) -> None:
    """Garbage, absurd nesting and values of the wrong kind: the window opens with defaults,
    and closing writes a settings file the next window reads."""
    from gui.main_window import MainWindow
    from gui.settings import AppSettings
    from gui.widgets.sampling_panel import SAMPLING_DEFAULTS

    path = tmp_path / "settings.ini"
    os.mkfifo(tmp_path / "fifo.json")
    path.write_bytes(b"\x00\xff garbage \x00\n[files]\nrecent=" + b"[" * 50_000 + b"]" * 50_000
                     + b"\nlast_folder=/no/such/folder\n[sampling]\nvalues={\"temperature\": "
                     + b"9" * 5000 + b"}\n[window]\ngeometry=@ByteArray(junk)\n[model]\nname="
                     + str(tmp_path / "fifo.json").encode() + b"\n[export]\nchoices=[1,2]\n")
    win = MainWindow(AppSettings(path))
    qtbot.addWidget(win)
    win.show()
    win.start(preload_model=True)
    qtbot.waitUntil(lambda: _idle(win), timeout=60000)
    assert win.ui.sampling.values() == SAMPLING_DEFAULTS
    assert win.settings.recent_files == [] and win.settings.export_choices["suffix"] == ".mid"
    win.ui.sampling.replace_values(temperature=0.75)
    _close_and_check(qtbot, win, path)
    assert AppSettings(path).sampling(SAMPLING_DEFAULTS).temperature == 0.75


def test_a_model_folder_with_junk_files(qtbot, window, tiny_checkpoint_dir, monkeypatch,
                                        tmp_path: Path) -> None:
    """Junk in the user's models folder is skipped; the real models are listed; a model whose
    weights are broken is one sentence when chosen, and the chooser keeps its place."""
    import hashlib
    import json
    import shutil
    import struct

    from musicgen import library
    from musicgen.userdirs import models_dir

    monkeypatch.setattr(library, "DEFAULT_CHECKPOINT_DIR", tiny_checkpoint_dir)
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "random.safetensors").write_bytes(os.urandom(4096))
    (folder / "random.json").write_bytes(os.urandom(512))
    (folder / "deep.safetensors").write_bytes(b"x")
    (folder / "deep.json").write_text('{"format": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (folder / "orphan.safetensors").write_bytes(b"tensors without their JSON")
    (folder / "folder.safetensors").mkdir()
    os.mkfifo(folder / "pipe.json")
    (folder / "pipe.safetensors").write_bytes(b"")
    (folder / ".mine.json.999999.abcd.tmp").write_bytes(b"half a file")
    (folder / "notes.txt").write_text("my models")
    (folder / "loop.safetensors").symlink_to(folder / "loop.safetensors")
    nan = folder / "broken.safetensors"
    shutil.copy(tiny_checkpoint_dir / "lstm-tiny.safetensors", nan)
    data = nan.read_bytes()
    header_len = struct.unpack("<Q", data[:8])[0]
    data = data[:8 + header_len] + struct.pack("<f", float("nan")) * ((len(data) - 8 - header_len) // 4)
    nan.write_bytes(data)
    document = json.loads((tiny_checkpoint_dir / "lstm-tiny.json").read_text())
    document["tensors"]["sha256"] = hashlib.sha256(data).hexdigest()
    nan.with_suffix(".json").write_text(json.dumps(document))

    with qtbot.waitSignal(window.models.models_listed, timeout=60000) as listed:
        window.models.refresh_models()
    names = sorted(card.name for card in listed.args[0])
    assert names == ["broken", "lstm-tiny", "transformer-tiny"], names
    panel = window.ui.model_panel
    before = panel.current_model()
    with qtbot.waitSignal(window.models.model_ready, timeout=60000):
        window.models.choose_model(before)
    job = window.models.choose_model(str(nan))
    with qtbot.waitSignal(job.failed, timeout=60000):
        pass
    message = window.status.message
    assert "broken.safetensors" in message and "not numbers" in message and "\n" not in message
