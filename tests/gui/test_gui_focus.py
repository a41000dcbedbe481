"""The note in focus and shaping, through the real window: a click on a generated note shows the
sampler's own candidates (checked against an independent computation from the checkpoint) and,
for the Transformer, its attention drawn over the roll and the score; another candidate is taken
and continued; dragged bars are regenerated; undo and redo restore each melody exactly; exports
take the edited melody; provenance finds a tune planted in a test corpus."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from musicgen.replay import bar_spans, config_from_metadata
from tests.support.gui import generate_and_wait, select_model
from tests.support.sampler_reference import reference_step


def generate(qtbot, win, kind: str, **settings):
    select_model(win, kind)
    values = {"variations": 2, "bars": 4, "rng_seed": 7, "temperature": 0.8, "top_p": 0.9,
              "key_lock": True, "cadence": False, **settings}
    win.ui.sampling.replace_values(new_seed_each_time=False, **values)
    return generate_and_wait(qtbot, win)


def generated_notes(melody) -> list[int]:
    return [i for i, n in enumerate(melody.notes)
            if n.onset_ticks >= melody.seed_end_ticks and not n.is_rest]


def click_note(qtbot, win, index: int, signal=None, timeout: int = 60000):
    """A real mouse click on note ``index`` of the roll; waits for ``signal`` when given."""
    roll = win.ui.roll
    centre = roll.note_rect(roll.melody.notes[index]).center().toPoint()
    if signal is None:
        qtbot.mouseClick(roll.widget(), Qt.MouseButton.LeftButton, pos=centre)
        return None
    with qtbot.waitSignal(signal, timeout=timeout) as blocker:
        qtbot.mouseClick(roll.widget(), Qt.MouseButton.LeftButton, pos=centre)
    return blocker.args


def drag(widget, start: QPoint, end: QPoint) -> None:
    """Press, move with the button held, release: what a user's drag sends."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, pos, button, buttons in ((QEvent.Type.MouseButtonPress, start, left, left),
                                       (QEvent.Type.MouseMove, end, none, left),
                                       (QEvent.Type.MouseButtonRelease, end, left, none)):
        event = QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button, buttons,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, event)


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_a_click_shows_the_samplers_candidates(qtbot, models_window, tiny_checkpoint_dir, kind):
    win = models_window
    generate(qtbot, win, kind)
    melody = win.ui.roll.melody
    index = generated_notes(melody)[2]
    (insight,) = click_note(qtbot, win, index, win.focus.insight_ready)
    assert win.ui.tabs.currentWidget() is win.ui.focus
    assert win.ui.roll.focus_index == index
    reference = reference_step(tiny_checkpoint_dir / f"{kind}-tiny.safetensors", melody, index,
                               config_from_metadata(melody.metadata))
    table = win.ui.focus.table
    assert table.rowCount() == len(insight.candidates) >= 1
    for row, candidate in enumerate(insight.candidates):
        expected = reference.probability(candidate.pitch_id, candidate.duration_id)
        assert candidate.probability == pytest.approx(expected, abs=2e-5)
        assert table.item(row, 2).text() == f"{expected * 100:.1f} %"
        assert table.item(row, 2).data(Qt.ItemDataRole.UserRole) == pytest.approx(expected)
        assert table.item(row, 0).text().endswith(candidate.name)
        assert table.item(row, 0).text().startswith("●") == candidate.chosen
    assert f"surprisal {insight.chosen.surprisal_bits:.2f} bits" in win.ui.focus.chosen_label.text()
    if kind == "lstm":
        qtbot.waitUntil(lambda: "no attention" in win.ui.focus.attention_label.text())
        assert win.ui.roll.attention == {}


def test_the_transformers_attention_is_its_own_and_drawn(qtbot, models_window,
                                                         tiny_checkpoint_dir):
    import torch

    from musicgen.checkpoint import load_checkpoint
    from musicgen.replay import replay

    win = models_window
    generate(qtbot, win, "transformer")
    melody = win.ui.roll.melody
    index = generated_notes(melody)[-1]
    with qtbot.waitSignal(win.focus.insight_ready, timeout=60000,
                          check_params_cb=lambda found: found.attention is not None) as ready:
        click_note(qtbot, win, index)
    insight = ready.args[0]
    model, _ = load_checkpoint(tiny_checkpoint_dir / "transformer-tiny.safetensors")
    ids = torch.tensor([list(replay(melody).ids[insight.window_start:insight.step])])
    own = model.attention_weights(ids)[:, :, -1, :].numpy()
    np.testing.assert_allclose(insight.attention, own, atol=1e-6)
    np.testing.assert_allclose(insight.attention.sum(axis=-1), 1.0, atol=1e-5)
    panel = win.ui.focus
    assert panel.layer_combo.count() == insight.layers and panel.head_combo.count() == insight.heads + 1
    average = insight.attention_by_note(insight.layers - 1, None)
    assert win.ui.roll.attention == win.ui.score.attention == average and average
    assert all(note < index for note in average)
    panel.head_combo.setCurrentIndex(1)
    assert win.ui.roll.attention == insight.attention_by_note(insight.layers - 1, 0)
    assert "Layer" in panel.attention_label.text()


def test_pick_a_candidate_then_undo_redo_and_export(qtbot, models_window, tmp_path):
    from gui.export_tasks import ExportRequest

    win = models_window
    generate(qtbot, win, "lstm", temperature=1.5, top_p=1.0)
    row, original = 0, win.ui.variations.melodies[0]
    index = generated_notes(original)[1]
    (insight,) = click_note(qtbot, win, index, win.focus.insight_ready)
    other = next(r for r, c in enumerate(insight.candidates) if not c.chosen)
    candidate = insight.candidates[other]
    win.ui.focus.table.selectRow(other)
    assert win.ui.focus.use_button.isEnabled()
    with qtbot.waitSignal(win.shape.shaped, timeout=60000) as shaped:
        win.ui.focus.use_button.click()
    edited = shaped.args[0]
    assert win.ui.variations.melodies[row] is edited is win.ui.roll.melody
    assert edited.notes[:index] == original.notes[:index]  # the prefix, note for note
    assert (edited.notes[index].pitch, edited.notes[index].duration_ticks) == \
        (candidate.pitch, candidate.duration_ticks)
    assert "edited" in win.ui.variations.item(row).text()

    assert win.actions.undo.shortcut().toString() == "Ctrl+Z"
    assert win.actions.redo.shortcut().toString() == "Ctrl+Shift+Z"
    win.actions.undo.trigger()
    assert win.ui.variations.melodies[row] == original and win.ui.roll.melody == original
    assert not win.actions.undo.isEnabled() and win.actions.redo.isEnabled()
    win.actions.redo.trigger()
    assert win.ui.variations.melodies[row] == edited

    target = tmp_path / "edited.abc"
    request = ExportRequest(path=str(target), suffix=".abc", continuation_only=False,
                            all_variations=False)
    with qtbot.waitSignal(win.export.export_finished, timeout=30000):
        win.export.export_with(request)
    assert "% musicgen last_edit: picked" in target.read_text()


def test_regenerate_dragged_bars_keeps_the_rest_and_undoes_exactly(qtbot, models_window):
    win = models_window
    generate(qtbot, win, "transformer", bars=6)
    row, original = 0, win.ui.variations.melodies[0]
    roll = win.ui.roll
    first = original.bar_index(original.seed_end_ticks) + 1
    spans = bar_spans(original)
    start, end = spans[first][0], spans[first + 1][1]
    y = roll.height() // 2
    with qtbot.waitSignal(roll.bars_selected, timeout=5000) as selected:
        drag(roll.widget(), QPoint(int(roll.tick_to_x(start + 3)), y),
             QPoint(int(roll.tick_to_x(end - 3)), y))
    assert tuple(selected.args) == (first, first + 1) == roll.selected_bars
    panel = win.ui.focus
    assert panel.regenerate_button.isEnabled() and win.actions.regenerate.isEnabled()
    assert f"Bars {first + 1}–{first + 2} selected" in panel.selection_label.text()
    with qtbot.waitSignal(win.shape.shaped, timeout=60000) as shaped:
        panel.regenerate_button.click()
    edited = shaped.args[0]
    assert edited.slice_ticks(0, start).notes == original.slice_ticks(0, start).notes
    assert edited.slice_ticks(end, original.duration_ticks).notes == \
        original.slice_ticks(end, original.duration_ticks).notes
    assert edited.slice_ticks(start, end).notes != original.slice_ticks(start, end).notes
    assert edited.duration_ticks == original.duration_ticks
    win.actions.undo.trigger()
    assert win.ui.variations.melodies[row] == original
    win.ui.variations.setCurrentRow(1)  # each variation has its own history
    assert not win.actions.undo.isEnabled() and not win.actions.redo.isEnabled()
    win.ui.variations.setCurrentRow(0)
    assert win.actions.redo.isEnabled()


def test_provenance_finds_a_tune_planted_in_a_test_corpus(qtbot, models_window):
    from musicgen.corpus import Corpus
    from musicgen.provenance import BarIndex
    from tests.support import training_melodies
    from tests.test_provenance import PLANTED

    win = models_window
    corpus = Corpus.from_melodies(training_melodies(30) + [PLANTED], name="planted")
    win.focus.store.use(BarIndex.build(corpus))
    seed = PLANTED.transposed(-3).replace(title="my tune")
    with qtbot.waitSignal(win.seed.seed_changed, timeout=10000):
        win.seeds.use(seed)
    index = next(i for i, n in enumerate(seed.notes) if n.onset_ticks >= 6 + 3 * 48)  # bar 4
    (matches,) = click_note(qtbot, win, index, win.focus.provenance_ready)
    best = matches[0]
    assert best.tune.title == "The Planted Reel" and best.known and best.transposition == -3
    text = win.ui.focus.provenance_label.text()
    assert "The Planted Reel" in text and "known tune" in text

    # A model trained on another corpus is said to be unindexed (the tiny ones: "figures").
    generate(qtbot, win, "lstm")
    index = generated_notes(win.ui.roll.melody)[0]
    with qtbot.waitSignal(win.focus.provenance_ready, timeout=60000):
        click_note(qtbot, win, index)
    assert "not indexed" in win.ui.focus.provenance_label.text()


def test_clicks_and_jobs_leave_the_windows_geometry_alone(qtbot, models_window):
    """A click on a note changes what the panel says, not the size of anything around it: the
    status line is as tall busy as idle, and the panel's and the candidates table's widths stay
    (scroll bars that came and went relaid and repainted the whole window at every click)."""
    win = models_window
    generate(qtbot, win, "lstm")
    status_height = win.status.height()
    win.status.set_busy(True, "Working")
    qtbot.wait(50)
    assert win.status.height() == status_height
    win.status.set_busy(False, "")
    panel, table = win.ui.focus, win.ui.focus.table
    resized: list = []

    class Watch(QObject):
        def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Resize and event.oldSize().isValid() \
                    and event.oldSize().width() != event.size().width():
                resized.append((type(watched).__name__, event.oldSize(), event.size()))
            return False

    watch = Watch()
    for widget in (panel.widget(), table.viewport(), win.status):
        widget.installEventFilter(watch)
    notes = generated_notes(win.ui.roll.melody)
    for index in (notes[0], notes[-1], notes[1]):
        click_note(qtbot, win, index, win.focus.insight_ready)
        qtbot.wait(30)
    assert table.rowCount() > 0
    assert resized == []


def test_a_new_focus_ring_repaints_only_the_two_rings(qtbot, models_window):
    win = models_window
    generate(qtbot, win, "lstm")
    roll = win.ui.roll
    notes = generated_notes(roll.melody)
    roll.set_focus_note(notes[0])
    ring = roll._ring(notes[1])
    assert ring.contains(roll.note_rect(roll.melody.notes[notes[1]]).toAlignedRect())
    assert ring.width() < roll.widget().width() // 4
