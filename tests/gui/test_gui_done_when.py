"""Issue 5's "Done when", through the real window and only its widgets and actions: load a tune of
one's own, generate four continuations at 0.8 and four at 1.3, listen, export the chosen one as
MIDI, and find seed + that continuation in the file."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox

from gui.audio import NO_DEVICE_MESSAGE

MY_TUNE = """X:1
T:Mairead's Walk
C:a user of musicgen
M:4/4
L:1/8
Q:1/4=110
K:D
|:A2 FA dAFA|B2 GB dBGB|A2 FA d2 fe|dcBA B2 A2:|
"""


def _generate_four(qtbot, win, temperature: float) -> list:
    sampling = win.ui.sampling
    sampling.temperature_spin.setValue(temperature)
    sampling.variations_spin.setValue(4)
    sampling.bars_spin.setValue(4)
    with qtbot.waitSignal(win.generation.generation_finished, timeout=120000) as done:
        win.ui.generate_button.click()
    return done.args[0]


def test_a_newcomer_loads_generates_listens_and_exports(qtbot, models_window, tmp_path,
                                                        monkeypatch):
    from musicgen.io import read_melody

    win = models_window
    tune = tmp_path / "my-tune.abc"
    tune.write_text(MY_TUNE)
    # 1. File > Open, picking their own tune in the (replaced) file picker.
    monkeypatch.setattr(win.dialogs, "open_file", lambda *a, **k: str(tune))
    with qtbot.waitSignal(win.seed.seed_changed, timeout=30000) as opened:
        win.actions.open.trigger()
    seed = opened.args[0]
    assert seed.title == "Mairead's Walk" and win.ui.roll.melody is seed
    mine = [n.pitch for n in read_melody(tune).pitched_notes]
    assert [n.pitch for n in seed.pitched_notes] == mine

    # 2. Four continuations at 0.8, then four at 1.3: both sets stay listed with their settings.
    win.ui.sampling.new_seed_check.setChecked(False)
    win.ui.sampling.rng_seed_spin.setValue(2024)
    cool = _generate_four(qtbot, win, 0.8)
    hot = _generate_four(qtbot, win, 1.3)
    listing = win.ui.variations
    assert len(cool) == len(hot) == 4 and listing.count() == 8 and listing.set_count == 2
    for row in range(8):
        text = listing.item(row).text()
        assert f"Variation {row + 1}" in text and ("T 0.8" if row < 4 else "T 1.3") in text
        assert f"seed {2024 + row % 4}" in text  # each variation's own seed
    assert [dict(m.metadata)["temperature"] for m in listing.melodies] == ["0.8"] * 4 + ["1.3"] * 4
    assert [m.notes for m in cool] != [m.notes for m in hot]

    # 3. Listen to one of the hot ones: offscreen there is no audio device, said once.
    statuses: list[str] = []
    win.status.message_changed.connect(statuses.append)
    listing.setCurrentRow(5)
    chosen = listing.melodies[5]
    assert win.ui.roll.melody is chosen
    for _ in range(2):
        win.ui.transport.play_button.click()
        qtbot.waitUntil(lambda: NO_DEVICE_MESSAGE in statuses, timeout=30000)
    assert statuses.count(NO_DEVICE_MESSAGE) == 1
    assert not win.playback.is_playing and win.ui.generate_button.isEnabled()

    # 4. Export the chosen one as MIDI with the export dialog.
    target = tmp_path / "the-one-i-liked.mid"
    win.ui.export_button.click()
    dialog = win.export.last_dialog
    assert dialog is not None and dialog.isVisible() and dialog.suffix == ".mid"
    assert dialog.whole_radio.isChecked() and not dialog.all_check.isChecked()
    dialog.path_edit.setText(str(target))
    with qtbot.waitSignal(win.export.export_finished, timeout=60000) as exported:
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    assert exported.args[0] == [target] and "the-one-i-liked.mid" in win.status.message

    back = read_melody(target)
    pitches = [n.pitch for n in back.pitched_notes]
    continuation = [n.pitch for n in chosen.continuation.pitched_notes]
    assert continuation and pitches == mine + continuation
    assert back.duration_ticks == chosen.duration_ticks
    meta = dict(back.metadata)
    assert meta.get("temperature") == "1.3" and meta.get("rng_seed") == "2025", meta  # its own
    assert meta.get("set_rng_seed") == "2024"
