"""Train on my tunes, through the real window: the dialog, background training with a live plot,
stop and resume (also in a new window), the tune-count message, the copy warning, the model
library (rename, delete), and closing the window mid-training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from musicgen.checkpoint import load_checkpoint
from musicgen.train.guard import RECOMMENDED_TUNES
from tests.support import write_abc_corpus
from tests.support.gui import generate_and_wait

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def _yes_to_questions(monkeypatch):
    """A window closed at teardown while a run goes on must not wait on a blocking question."""
    from gui.dialogs import Dialogs

    monkeypatch.setattr(Dialogs, "confirm", lambda self, question, title="": True)


def open_tunes(qtbot, win, folder: Path):
    """Open the dialog from the Model menu and pick `folder` with its Choose button."""
    win.actions.train.trigger()
    dialog = win.training.dialog
    win.dialogs.open_folder = lambda *_args: str(folder)
    with qtbot.waitSignal(win.training.report_ready, timeout=60000) as report:
        dialog.folder_button.click()
    return dialog, report.args[0]


def choose(dialog, start: str, name: str, passes: int | None = None, **advanced) -> None:
    form = dialog.form
    index = next(i for i in range(form.start_combo.count())
                 if start in form.start_combo.itemText(i))
    form.start_combo.setCurrentIndex(index)
    form.name_edit.setText(name)
    if passes is not None:
        form.passes_radio.setChecked(True)
        form.passes_spin.setValue(passes)
    else:
        form.minutes_spin.setValue(30.0)
    for key, value in advanced.items():
        getattr(form, key).setValue(value)


def train_and_wait(qtbot, win, dialog, timeout: int = 180000) -> str:
    with qtbot.waitSignal(win.training.model_saved, timeout=timeout) as saved:
        dialog.train_button.click()
    return saved.args[0]


def picker_names(win) -> list[str]:
    return [c.name for c in win.ui.model_panel._cards]


def test_fine_tune_from_the_dialog_then_pick_and_generate(qtbot, models_window, tmp_path):
    win = models_window
    dialog, report = open_tunes(qtbot, win, write_abc_corpus(tmp_path / "my tunes", 30))
    assert (report.found, report.kept, report.held_out, report.problem) == (30, 30, 3, None)
    assert "30 tunes found" in dialog.report_view.summary_label.text()
    assert dialog.train_button.isEnabled()
    choose(dialog, "lstm-tiny", "my-reels", passes=2)
    with qtbot.waitSignal(win.models.models_listed, timeout=180000):
        path = train_and_wait(qtbot, win, dialog)
    # the live plot got the base model's figure, both passes and training steps
    assert len(dialog.plot.held_out) == 3 and dialog.plot.training
    assert "bits per note" in dialog.result_label.text()
    assert "Copies 4+ bars" in dialog.copy_label.text()
    assert "my-reels" in picker_names(win)
    files = sorted(p.name for p in Path(path).parent.iterdir())
    assert files == ["my-reels.json", "my-reels.md", "my-reels.run", "my-reels.safetensors"]
    card_text = Path(path).with_suffix(".md").read_text()
    assert "held-out tunes" in card_text and "lstm-tiny (before)" in card_text
    assert "do not compare with figures measured on other tunes" in card_text
    panel = win.ui.model_panel
    panel._on_activated(picker_names(win).index("my-reels"))
    assert "lstm-tiny on the same tunes:" in panel.card_label.text()
    assert "of your own tunes held out" in panel.card_label.text()
    assert panel.library_row.isVisibleTo(panel)
    melodies = generate_and_wait(qtbot, win)
    assert melodies and dict(melodies[0].metadata).get("model") == "my-reels"


def test_stop_then_resume_in_a_new_window(qtbot, models_window, tmp_path):
    win = models_window
    dialog, _ = open_tunes(qtbot, win, write_abc_corpus(tmp_path / "tunes", 30))
    choose(dialog, "lstm-tiny", "stopped-run", passes=6)
    with qtbot.waitSignal(win.training.running_changed, timeout=10000):
        dialog.train_button.click()
    # the training process starts, imports torch and measures the base model first
    qtbot.waitUntil(lambda: bool(dialog.plot.training), timeout=180000)  # a step, drawn
    with qtbot.waitSignal(win.training.model_saved, timeout=60000) as saved:
        dialog.stop_button.click()
    stopped = json.loads(Path(saved.args[0]).with_suffix(".json").read_text())
    load_checkpoint(saved.args[0])  # the best so far is a whole model
    assert "Resume" in dialog.result_label.text()
    # a new window (as after restarting the app) offers the run and finishes it
    from gui.main_window import MainWindow

    again = MainWindow(win.settings)
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.models.models_listed, timeout=30000):
        again.models.refresh_models()
    with qtbot.waitSignal(again.training.refresh_stopped_runs().finished, timeout=10000):
        again.actions.train.trigger()
    new_dialog = again.training.dialog
    assert new_dialog.resume_combo.currentData() == "stopped-run"
    with qtbot.waitSignal(again.training.model_saved, timeout=180000) as done:
        new_dialog.resume_button.click()
    finished = json.loads(Path(done.args[0]).with_suffix(".json").read_text())
    assert finished["finetune"]["training"]["epochs"] == 6
    assert finished["finetune"]["training"]["steps"] > stopped["metrics"]["steps"]
    again.worker.stop_all(wait_ms=10000)


def test_too_few_tunes_say_how_many_are_needed(qtbot, window, tmp_path):
    dialog, report = open_tunes(qtbot, window, write_abc_corpus(tmp_path / "two", 2))
    assert report.found == 2 and report.problem
    text = dialog.report_view.advice_label.text()
    assert "Only 2 different tunes" in text and "at least 3" in text
    assert not dialog.train_button.isEnabled()
    dialog, report = open_tunes(qtbot, window, write_abc_corpus(tmp_path / "five", 5))
    assert report.problem is None and f"about {RECOMMENDED_TUNES}" in report.advice
    assert dialog.train_button.isEnabled()


def write_three_tunes(folder: Path) -> Path:
    """Three different 16-bar tunes of whole notes, each a short figure played over and over (one
    note, a rocking fifth, an arpeggio): quick to learn by heart (a 4-bar copy is 4 notes), and
    no two share 4 bars of intervals."""
    folder.mkdir(parents=True)
    figures = (["C8"], ["C8", "G8"], ["C8", "E8", "G8", "c8"])
    tunes = [f"X:{i + 1}\nT:Round {i + 1}\nM:4/4\nL:1/8\nK:C\n"
             f"{'|'.join((figure * 16)[:16])}|]\n" for i, figure in enumerate(figures)]
    (folder / "three.abc").write_text("\n".join(tunes))
    return folder


def test_copy_warning_fires_when_a_model_learns_three_tunes_by_heart(qtbot, window, tmp_path):
    dialog, report = open_tunes(qtbot, window, write_three_tunes(tmp_path / "three"))
    assert report.kept == 3 and report.held_out == 1
    choose(dialog, "New LSTM (small", "by-heart", passes=100)
    dialog.form.advanced.setChecked(True)
    dialog.form.lr_spin.setValue(0.01)
    dialog.form.patience_spin.setValue(0)
    with qtbot.waitSignal(window.training.copy_warning, timeout=120000):
        dialog.train_button.click()  # (measured: the warning comes after about 11 passes)
    assert dialog.warning_label.isVisibleTo(dialog)
    assert "copy your tunes" in dialog.warning_label.text()
    assert dialog.plot.refused
    with qtbot.waitSignal(window.training.running_changed, timeout=60000):
        dialog.stop_button.click()


def test_rename_and_delete_a_user_model(qtbot, models_window, tiny_checkpoints):
    from musicgen.userdirs import models_dir

    win = models_window
    models = models_dir()
    models.mkdir(parents=True, exist_ok=True)
    for suffix in (".safetensors", ".json"):
        shutil.copy(tiny_checkpoints["lstm"].with_suffix(suffix), models / f"mine{suffix}")
    (models / "mine.run").mkdir()
    (models / "mine.md").write_text("# mine\n")
    with qtbot.waitSignal(win.models.models_listed, timeout=30000):
        win.models.refresh_models()
    panel = win.ui.model_panel
    panel._on_activated(picker_names(win).index("mine"))
    assert panel.library_row.isVisibleTo(panel)
    win.dialogs.ask_text = lambda *_args: "renamed tune model"
    with qtbot.waitSignal(win.models.models_listed, timeout=30000):
        panel.rename_button.click()
    assert "renamed tune model" in picker_names(win) and "mine" not in picker_names(win)
    assert sorted(p.name for p in models.iterdir()) == [
        "renamed tune model.json", "renamed tune model.md", "renamed tune model.run",
        "renamed tune model.safetensors"]
    load_checkpoint(models / "renamed tune model.safetensors")
    panel._on_activated(picker_names(win).index("renamed tune model"))
    asked = []
    win.dialogs.confirm = lambda question, *_args: asked.append(question) or False
    panel.delete_button.click()
    assert asked and (models / "renamed tune model.safetensors").exists()  # "No" keeps it
    win.dialogs.confirm = lambda *_args: True
    with qtbot.waitSignal(win.models.models_listed, timeout=30000):
        panel.delete_button.click()
    assert list(models.iterdir()) == [] and "renamed tune model" not in picker_names(win)


def test_closing_the_window_mid_training_leaves_a_loadable_model(qtbot, models_window, tmp_path):
    from musicgen.userdirs import models_dir

    win = models_window
    dialog, _ = open_tunes(qtbot, win, write_abc_corpus(tmp_path / "tunes", 30))
    choose(dialog, "lstm-tiny", "interrupted")  # a 30-minute budget: far from done
    # the training process starts, imports torch and measures the base model first
    dialog.train_button.click()
    qtbot.waitUntil(lambda: bool(dialog.plot.training), timeout=180000)  # a step, drawn
    asked = []
    win.dialogs.confirm = lambda question, *_args: asked.append(question) or False
    win.close()
    assert asked and win.isVisible() and win.training.running  # "No": nothing stops
    win.dialogs.confirm = lambda *_args: True
    win.close()
    assert not win.isVisible()
    assert win.worker._pool.activeThreadCount() == 0  # the run ended (and saved) before closing
    model, meta = load_checkpoint(models_dir() / "interrupted.safetensors")
    assert model.kind == "lstm" and meta["metrics"]["steps"] >= 0
    state = json.loads((models_dir() / "interrupted.run" / "state.json").read_text())
    assert state["meta"]["position"]["step"] >= 1
