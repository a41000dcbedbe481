"""Nothing is lost: the seed and every variation come back at the next start, through the real
window; a damaged session file is set aside with a sentence; a failed save keeps the old file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.gui import generate_and_wait, select_model


def _new_window(qtbot, settings_path: Path):
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    win = MainWindow(AppSettings(settings_path))
    qtbot.addWidget(win)
    win.show()
    return win


def _close(win) -> None:
    assert win.close()
    win.worker.stop_all(wait_ms=10000)


def test_variations_and_seed_come_back_after_quitting(qtbot, models_window, tmp_path: Path,
                                                      monkeypatch) -> None:
    win = models_window
    select_model(win, "lstm")
    win.seeds.trim(3)  # a trimmed seed comes back trimmed
    trimmed = win.seed.melody
    win.ui.sampling.replace_values(variations=3, bars=4, new_seed_each_time=False, rng_seed=5)
    first = generate_and_wait(qtbot, win)
    win.ui.sampling.replace_values(variations=2, bars=2, temperature=1.4)
    second = generate_and_wait(qtbot, win)
    win.ui.variations.setCurrentRow(4)
    win.ui.transport.tempo_spin.setValue(97)  # in the meter's beat (a dotted quarter in 6/8)
    tempo = win.ui.transport.tempo_bpm
    win.actions.quit.trigger()  # Ctrl+Q: no question, the session is saved
    assert not win.isVisible()
    win.worker.stop_all(wait_ms=10000)

    again = _new_window(qtbot, tmp_path / "settings.ini")
    again.start(preload_model=False)
    listing = again.ui.variations
    assert listing.melodies == first + second  # every note, the settings and provenance
    assert listing.set_count == 2 and listing.currentRow() == 4
    assert again.seed.melody == trimmed and again.seed.full.bar_count > trimmed.bar_count
    assert again.ui.roll.melody == second[1] and again.ui.transport.tempo_bpm == tempo
    assert again.ui.transport.tempo_spin.value() == 97
    assert "Restored the last session" in again.status.message
    _close(again)


def test_a_seed_on_the_command_line_wins_over_the_session(qtbot, window, seed_files,
                                                          tmp_path: Path) -> None:
    from tests.support.gui import open_and_wait

    open_and_wait(qtbot, window, seed_files["kesh"])
    _close(window)
    again = _new_window(qtbot, tmp_path / "settings.ini")
    with qtbot.waitSignal(again.seed.seed_changed, timeout=30000) as opened:
        again.start(str(seed_files["scale"]), preload_model=False)
    assert opened.args[0].note_count == 8  # the scale, not The Kesh
    _close(again)


def test_a_damaged_session_is_set_aside_with_a_note(qtbot, tmp_path: Path,
                                                    isolated_user_dirs) -> None:
    session = tmp_path / "settings-session.json"
    session.write_text('{"version": 1, "seed": {"notes": [[60, 0, 12]], "meter": [4')  # cut short
    win = _new_window(qtbot, tmp_path / "settings.ini")
    messages: list[str] = []
    win.status.message_changed.connect(messages.append)
    with qtbot.waitSignal(win.seed.seed_changed, timeout=30000):
        win.start(preload_model=False)  # the usual first-run seed instead
    assert any("could not be restored" in m and "damaged" in m for m in messages)
    assert (tmp_path / "settings-session.damaged.json").read_text().endswith('"meter": [4')
    assert win.ui.variations.count() == 0
    _close(win)
    assert json.loads(session.read_text())["version"] == 1  # a good session written at closing


def test_a_session_cut_short_never_replaces_the_last_good_one(qtbot, models_window,
                                                              tmp_path: Path) -> None:
    """The file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes the next save fail half
    written, for root too: the last good session stays whole, no temporary file is left, and the
    window says so and still closes."""
    import resource
    import signal

    win = models_window
    select_model(win, "lstm")
    win.ui.sampling.replace_values(variations=2, bars=2, new_seed_each_time=False, rng_seed=1)
    generate_and_wait(qtbot, win)
    qtbot.waitUntil(lambda: not win.session.pending)
    path = win.settings.session_path
    good = path.read_bytes()
    assert len(json.loads(good)["sets"][0]) == 2
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(good) + 64, limits[1]))
    try:
        win.ui.sampling.replace_values(variations=4, bars=4)  # a longer session
        generate_and_wait(qtbot, win)
        qtbot.waitUntil(lambda: not win.session.pending)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert "could not be saved" in win.session.last_error
    assert "could not be saved" in win.status.message
    assert path.read_bytes() == good  # the last good session is whole
    assert sorted(p.name for p in path.parent.glob("*session*")) == [path.name]  # no temporary
    assert win.session.save()  # room again: the next save writes the whole session
    assert len(json.loads(path.read_bytes())["sets"]) == 2


def test_the_session_file_round_trips_every_field(tmp_path: Path) -> None:
    from gui.session_store import Session, load_session, save_session
    from musicgen.melody import Key, Melody, Meter, PartForm, TuneForm

    seed = Melody.from_pitches([62, None, 66, 67], 12, meter=Meter(6, 8), key=Key(2, "dorian"),
                               pickup_ticks=12, title="Jig <1>", tempo_bpm=96.5)
    tune = seed.concatenated(Melody.from_pitches([69, 71] * 12, 6, meter=Meter(6, 8))).replace(
        seed_end_ticks=seed.duration_ticks,
        form=TuneForm((PartForm("A", 0, 72, 12, 12), PartForm("B", 168, 12))),
    ).with_metadata(model="lstm-folk", rng_seed=8, edits=2)
    session = Session(seed=seed, seed_full=seed, seed_path="/music/jig.abc", sets=[[tune, tune]],
                      selected=1, tempo_bpm=96.0)
    save_session(tmp_path / "s" / "session.json", session)  # the folder is made
    back, problem = load_session(tmp_path / "s" / "session.json")
    assert problem == "" and back == session
    assert load_session(tmp_path / "none.json") == (None, "")
