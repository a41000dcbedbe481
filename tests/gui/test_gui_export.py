"""Exporting from the real window: MIDI re-read, continuation only, every format, all variations,
overwrite confirmation, provenance inside the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui.export_tasks import ExportRequest
from tests.support.gui import generate_and_wait


@pytest.fixture
def generated(qtbot, models_window):
    win = models_window
    win.ui.sampling.replace_values(variations=3, bars=4, new_seed_each_time=False, rng_seed=21,
                                   temperature=0.8)
    return win, generate_and_wait(qtbot, win)


def _export(qtbot, win, request):
    with qtbot.waitSignal(win.export.export_finished, timeout=60000) as done:
        assert win.export.export_with(request) is not None
    return done.args[0]


def test_export_midi_and_read_it_back(qtbot, generated, tmp_path):
    from musicgen.io import read_melody

    win, melodies = generated
    win.ui.variations.setCurrentRow(1)
    [path] = _export(qtbot, win, ExportRequest(str(tmp_path / "tune.mid"), ".mid"))
    back = read_melody(path)
    expected = melodies[1]
    assert [n.pitch for n in back.pitched_notes] == [n.pitch for n in expected.pitched_notes]
    assert back.duration_ticks == expected.duration_ticks
    meta = dict(back.metadata)
    assert meta.get("model") == "lstm-tiny" or "lstm-tiny" in str(meta), meta
    assert "tune.mid" in win.status.message


def test_export_continuation_only(qtbot, generated, tmp_path):
    from musicgen.io import read_melody

    win, melodies = generated
    [path] = _export(qtbot, win, ExportRequest(str(tmp_path / "cont.mid"), ".mid",
                                               continuation_only=True))
    back = read_melody(path)
    cont = melodies[0].continuation
    assert [n.pitch for n in back.pitched_notes] == [n.pitch for n in cont.pitched_notes]
    assert back.note_count < melodies[0].note_count


@pytest.mark.parametrize("suffix", [".abc", ".musicxml", ".wav"])
def test_export_other_formats(qtbot, generated, tmp_path, suffix):
    win, melodies = generated
    [path] = _export(qtbot, win, ExportRequest(str(tmp_path / f"tune{suffix}"), suffix))
    assert path.stat().st_size > 100
    if suffix == ".wav":
        assert path.read_bytes()[:4] == b"RIFF"
    elif suffix == ".abc":
        # Tiny models write odd durations music21 cannot always re-read: check the text itself.
        text = path.read_text()
        assert text.startswith("X:") and "T:The Kesh" in text and "lstm-tiny" in text
    else:
        from musicgen.io import read_melody

        back = read_melody(path)
        assert [n.pitch for n in back.pitched_notes] == [
            n.pitch for n in melodies[0].pitched_notes]


def test_export_all_variations_into_a_folder_asks_before_overwriting(qtbot, generated, tmp_path,
                                                                   monkeypatch):
    win, melodies = generated
    folder = tmp_path / "out"
    folder.mkdir()
    paths = _export(qtbot, win, ExportRequest(str(folder), ".mid", all_variations=True))
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)
    assert len(paths) == 3
    questions: list[str] = []
    monkeypatch.setattr(win.dialogs, "confirm", lambda q, title="": questions.append(q) or False)
    before = {p: p.stat().st_mtime_ns for p in paths}
    assert win.export.export_with(ExportRequest(str(folder), ".mid", all_variations=True)) is None
    assert questions and "3 existing" in questions[0]
    assert {p: p.stat().st_mtime_ns for p in paths} == before
    monkeypatch.setattr(win.dialogs, "confirm", lambda q, title="": True)
    assert len(_export(qtbot, win, ExportRequest(str(folder), ".mid", all_variations=True))) == 3


def test_export_into_a_missing_folder_makes_it(qtbot, generated, tmp_path):
    win, _melodies = generated
    [path] = _export(qtbot, win, ExportRequest(str(tmp_path / "new" / "folder" / "t.mid"), ".mid"))
    assert path == tmp_path / "new" / "folder" / "t.mid" and path.stat().st_size > 0


def test_export_into_an_unmakeable_folder_is_one_sentence(qtbot, generated, tmp_path):
    win, _melodies = generated
    (tmp_path / "a-file").write_text("not a folder")
    with qtbot.waitSignal(win.dialogs.error_shown, timeout=30000) as shown:
        win.export.export_with(ExportRequest(str(tmp_path / "a-file" / "t.mid"), ".mid"))
    assert "cannot be made" in shown.args[0] and "Traceback" not in shown.args[0]


def test_the_dialog_names_the_variation_and_remembers_the_last_choices(qtbot, generated, tmp_path):
    win, _melodies = generated
    win.ui.variations.setCurrentRow(2)
    dialog = win.export.make_dialog()
    assert "variation 3 of 3" in dialog.windowTitle()
    assert dialog.path_edit.text().endswith("-variation-3.mid")
    assert not dialog.path_edit.text().startswith(str(Path(win.seed.path).parent))  # not a temp folder
    assert "lstm-tiny-variation-N" in dialog.all_check.text()  # batch names carry the model
    dialog.deleteLater()
    _export(qtbot, win, ExportRequest(str(tmp_path / "out" / "x.abc"), ".abc", continuation_only=True))
    again = win.export.make_dialog()
    assert again.suffix == ".abc" and again.continuation_radio.isChecked()
    assert again.path_edit.text().startswith(str(tmp_path / "out"))
    again.deleteLater()
