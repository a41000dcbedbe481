"""Each controller built on its own, without a MainWindow: real widgets, a real worker, real files
and (where a model is needed) the tiny checkpoints, driven through the widgets' own signals."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QPushButton, QWidget

from gui.dialogs import Dialogs
from gui.seed_state import SeedState
from gui.settings import AppSettings
from gui.status import StatusArea
from gui.workers import Worker
from musicgen.melody import Key, Melody, Meter
from tests.support.gui import click_tune
from tests.support import KESH_ABC, TUNE_BOOK_ABC


@pytest.fixture
def common(qtbot, tmp_path, isolated_user_dirs):
    """What each controller is given besides its widgets: worker, status area, settings, dialogs."""
    host = QWidget()
    status = StatusArea()
    qtbot.addWidget(host)
    qtbot.addWidget(status)
    worker = Worker()
    yield {"worker": worker, "status": status, "settings": AppSettings(tmp_path / "settings.ini"),
           "dialogs": Dialogs(host)}
    worker.stop_all(wait_ms=10000)


def _tune(pitches: list[int | None], title: str = "Test tune", tempo_bpm: float = 120.0) -> Melody:
    return Melody.from_pitches(pitches, duration_ticks=6, meter=Meter(6, 8), key=Key(2, "major"),
                               tempo_bpm=tempo_bpm, title=title)


def test_status_area_turns_progress_into_a_bar(qtbot):
    status = StatusArea()
    qtbot.addWidget(status)
    bar = status.progress_bar
    status.show_progress(3, 4, "generating 3 of 4 bars")
    assert not bar.isHidden() and (bar.minimum(), bar.maximum(), bar.value()) == (0, 1000, 750)
    assert bar.format() == "generating 3 of 4 bars"
    status.show_progress(5, 0, "preparing the corpus")  # total 0: how far is unknown
    assert (bar.minimum(), bar.maximum()) == (0, 0)
    status.hide_progress()
    assert bar.isHidden()
    with qtbot.waitSignal(status.message_changed) as said:
        status.set_busy(True, "Working…")
    assert said.args == ["Working…"] and status.message == "Working…"
    assert not status.stop_button.isHidden() and not bar.isHidden()
    with qtbot.waitSignal(status.stop_clicked):
        status.stop_button.click()
    status.set_busy(False, "Done.")
    assert status.stop_button.isHidden() and bar.isHidden() and status.message == "Done."


def _seed_control(qtbot, common):
    from gui.seed_control import SeedControl
    from gui.widgets.corpus_browser import CorpusBrowser
    from gui.widgets.seed_panel import SeedPanel

    panel, browser = SeedPanel(), CorpusBrowser()
    qtbot.addWidget(panel)
    qtbot.addWidget(browser)
    seed = SeedState()
    control = SeedControl(seed, panel, browser, QMenu(panel), **common)
    return control, seed, panel


def test_seed_control_reads_a_tune_book_by_its_content(qtbot, common, tmp_path):
    control, seed, panel = _seed_control(qtbot, common)
    book = tmp_path / "tunes.txt"
    book.write_text(TUNE_BOOK_ABC)
    tempos: list[float] = []
    control.tempo_found.connect(tempos.append)
    with qtbot.waitSignal(seed.seed_changed, timeout=30000) as opened:
        control.open_path(str(book))
    first = opened.args[0]
    assert first.title == "First Tune" and seed.melody is first and seed.path == str(book)
    assert [panel.parts_list.item(i).text() for i in range(panel.parts_list.count())] == [
        "First Tune", "Second Tune", "Third Tune"]
    assert tempos == [first.tempo_bpm] and "First Tune" in common["status"].message
    assert common["settings"].recent_files == [str(book.resolve())]
    with qtbot.waitSignal(seed.seed_changed, timeout=30000) as chosen:
        click_tune(qtbot, panel.parts_list, 1)
    assert chosen.args[0].title == "Second Tune" and seed.path == str(book)
    assert panel.parts_list.currentRow() == 1


def test_seed_control_keeps_the_seed_when_a_file_holds_no_melody(qtbot, common, tmp_path):
    control, seed, _panel = _seed_control(qtbot, common)
    kept = _tune([62, 64, 66, 67, 69, 71])
    control.use(kept)
    junk = tmp_path / "shopping.txt"
    junk.write_text("eggs\nmilk\nrosin\n")
    changes: list[Melody] = []
    seed.seed_changed.connect(changes.append)
    with qtbot.waitSignal(control.load_failed, timeout=30000) as failed:
        control.open_path(str(junk))
    text = failed.args[0]
    assert "shopping.txt" in text and "Traceback" not in text and "\n" not in text
    assert common["dialogs"].last_error == text
    assert seed.melody is kept and changes == []
    assert common["status"].message == "The seed was not changed."


def test_seed_control_applies_abc_and_trims(qtbot, common):
    _control, seed, panel = _seed_control(qtbot, common)
    panel.abc_edit.setPlainText(KESH_ABC)
    with qtbot.waitSignal(seed.seed_changed, timeout=30000) as applied:
        panel.abc_button.click()
    full = applied.args[0]
    assert full.title == "The Kesh" and seed.path is None and full.bar_count >= 8
    panel.trim_spin.setValue(2)
    with qtbot.waitSignal(seed.seed_changed) as trimmed:
        panel.trim_button.click()
    assert trimmed.args[0].bar_count == 2 and seed.melody is trimmed.args[0] and seed.full is full
    assert panel.trim_spin.maximum() == full.bar_count  # the trim box still reaches the full seed
    panel.abc_edit.setPlainText("not ABC at all")
    panel.abc_button.click()
    qtbot.waitUntil(lambda: bool(panel.abc_error_label.text()), timeout=30000)
    assert seed.melody is trimmed.args[0]


def test_seed_control_falls_back_to_the_builtin_seed(qtbot, common, monkeypatch, tmp_path):
    from gui import seed_control

    monkeypatch.setattr(seed_control, "DEFAULT_SEED_PATH", tmp_path / "missing.abc")
    control, seed, _panel = _seed_control(qtbot, common)
    with qtbot.waitSignal(seed.seed_changed):
        control.open_initial()
    assert seed.melody is not None and seed.melody.note_count > 10 and seed.path is None


def _generation(qtbot, common, seed: SeedState, current_model, generators=None):
    from gui.generation_control import GenerationControl
    from gui.generation_tasks import GeneratorCache
    from gui.widgets.sampling_panel import SamplingPanel
    from gui.widgets.variations_list import VariationsList

    sampling, variations, button = SamplingPanel(), VariationsList(), QPushButton("Generate")
    for widget in (sampling, variations, button):
        qtbot.addWidget(widget)
    generate, stop = QAction("Generate", button), QAction("Stop", button)
    control = GenerationControl(seed, sampling, variations, button, generate, stop,
                                generators=generators or GeneratorCache(),
                                current_model=current_model, **common)
    return control, sampling, variations, button, stop


def test_generation_control_says_when_there_is_no_model(qtbot, common):
    seed = SeedState()
    seed.set(_tune([62, 64, 66]))
    control, *_ = _generation(qtbot, common, seed, lambda: None)
    with qtbot.waitSignal(common["dialogs"].error_shown) as said:
        assert control.generate() is None
    assert "No model is available" in said.args[0] and control.job is None


@pytest.fixture
def tiny_models(tiny_checkpoint_dir: Path, monkeypatch) -> Path:
    from musicgen import library

    monkeypatch.setattr(library, "DEFAULT_CHECKPOINT_DIR", tiny_checkpoint_dir)
    return tiny_checkpoint_dir


def test_model_and_generation_controls_generate_and_stop(qtbot, common, tiny_models):
    from gui.generation_tasks import GeneratorCache
    from gui.model_control import ModelControl
    from gui.widgets.model_panel import ModelPanel
    from gui.widgets.sampling_panel import SAMPLING_DEFAULTS

    panel, generators, status, settings = ModelPanel(), GeneratorCache(), common["status"], \
        common["settings"]
    qtbot.addWidget(panel)
    models = ModelControl(panel, generators, **common)
    settings.model = "transformer"
    with qtbot.waitSignals([models.models_listed, models.model_ready], timeout=60000):
        models.refresh_models(preload=True)
    assert models.current_model() == str(tiny_models / "transformer-tiny.safetensors")
    assert panel.status_label.text() == "Ready."
    seed = SeedState()
    seed.set(_tune([62, 64, 66, 67, 69, 71, 69, 67, 66, 64, 62, 61], title="Scale jig"))
    control, sampling, variations, button, stop = _generation(
        qtbot, common, seed, models.current_model, generators)
    sampling.replace_values(variations=2, bars=2, rng_seed=3, new_seed_each_time=False)
    with qtbot.waitSignal(control.generation_finished, timeout=120000) as done:
        button.click()
        assert not button.isEnabled() and stop.isEnabled() and not status.stop_button.isHidden()
    melodies = done.args[0]
    assert len(melodies) == 2 and variations.melodies == melodies
    meta = dict(melodies[0].metadata)
    assert meta["model"] == "transformer-tiny" and meta["rng_seed"] == "3"
    assert button.isEnabled() and not stop.isEnabled() and status.stop_button.isHidden()
    assert status.message.startswith("Generated 2 variation(s)")
    assert settings.sampling(SAMPLING_DEFAULTS) == sampling.values()
    assert not settings.new_seed_each_time

    sampling.replace_values(variations=8, bars=64)
    with qtbot.waitSignal(control.generation_cancelled, timeout=60000):
        job = control.generate()
        with qtbot.waitSignal(job.progress, timeout=60000) as progressed:
            pass
        assert len(progressed.args) == 3 and not status.progress_bar.isHidden()
        stop.trigger()
    assert variations.count() == 2 and "stopped" in status.message
    seed.set(_tune([69, 71, 73]))  # a new seed clears the old seed's variations
    assert variations.count() == 0


def _generated(seed: Melody, tail: list[int | None], **meta: object) -> Melody:
    cont = Melody.from_pitches(tail, duration_ticks=6)
    return seed.concatenated(cont).replace(seed_end_ticks=seed.duration_ticks).with_metadata(**meta)


def test_export_control_writes_the_seed_or_the_variations(qtbot, common, tmp_path):
    from gui.export_control import ExportControl
    from gui.export_tasks import ExportRequest
    from gui.widgets.variations_list import VariationsList
    from musicgen.io import read_melody

    seed, variations = SeedState(), VariationsList()
    qtbot.addWidget(variations)
    export = ExportControl(seed, variations, tempo_bpm=lambda: 150, **common)
    with qtbot.waitSignal(common["dialogs"].error_shown) as said:
        assert export.make_dialog() is None
    assert "nothing to export" in said.args[0]
    melody = _tune([62, 64, 66, 67, 69, 71], title="Alone")
    seed.set(melody)
    with qtbot.waitSignal(export.export_finished, timeout=30000) as done:
        export.export_with(ExportRequest(str(tmp_path / "alone.mid"), ".mid"))
    [path] = done.args[0]
    back = read_melody(path)
    assert [n.pitch for n in back.pitched_notes] == [62, 64, 66, 67, 69, 71]
    assert back.tempo_bpm == pytest.approx(150)
    assert "alone.mid" in common["status"].message
    assert common["settings"].export_choices["folder"] == str(tmp_path)
    variations.set_variations([_generated(melody, [74, 73, 71], rng_seed=1),
                               _generated(melody, [62, 64, 66], rng_seed=2)])
    folder = tmp_path / "all"
    folder.mkdir()
    with qtbot.waitSignal(export.export_finished, timeout=30000) as done:
        export.export_with(ExportRequest(str(folder), ".abc", continuation_only=True,
                                         all_variations=True))
    assert sorted(p.name for p in done.args[0]) == [
        "alone-variation-1-continuation.abc", "alone-variation-2-continuation.abc"]


class _SilentPlayer(QObject):
    """An audio player that plays at once (no sound) and reports half a second played."""

    position_changed = Signal(float)
    finished = Signal()
    unavailable = Signal(str)
    loop = False
    duration = 1.0

    def play(self, pcm, rate, start_s) -> bool:
        self.played = (pcm.size, rate, start_s)
        self.position_changed.emit(0.5)
        return True

    def stop(self) -> None:
        pass


def test_transport_control_shows_plays_and_loops(qtbot, common):
    from gui.playback_control import PlaybackController, seconds_to_ticks
    from gui.transport_control import TransportControl
    from gui.widgets.piano_roll import PianoRollView
    from gui.widgets.transport import TransportBar

    roll, bar, status = PianoRollView(), TransportBar(), common["status"]
    qtbot.addWidget(roll)
    qtbot.addWidget(bar)
    loop = QAction("Loop", bar)
    loop.setCheckable(True)
    players: list[_SilentPlayer] = []
    playback = PlaybackController(common["worker"], bar,
                                  player_factory=lambda parent: players.append(
                                      _SilentPlayer(parent)) or players[-1])
    control = TransportControl(roll, bar, loop, playback, status)
    melody = _tune([62, 64, 66, 67], tempo_bpm=96.0)
    control.set_tempo(melody.tempo_bpm)
    control.show(melody)
    assert roll.melody is melody and control.shown is melody and bar.tempo_bpm == 96
    with qtbot.waitSignal(playback.playing_changed, timeout=30000):
        bar.play_button.click()
    assert bar.play_button.text().endswith("Stop") and players[0].played[2] == 0.0
    assert roll.playhead_ticks == seconds_to_ticks(0.5, 96.0)
    assert bar.position_label.text() == "0:00.5 / 0:01.0"
    players[0].finished.emit()
    assert bar.play_button.text().endswith("Play") and roll.playhead_ticks is None
    bar.loop_check.setChecked(True)
    assert loop.isChecked() and players[0].loop
    loop.setChecked(False)
    assert not bar.loop_check.isChecked() and not players[0].loop
    playback.message.emit("No audio output device was found.")
    assert status.message == "No audio output device was found."
