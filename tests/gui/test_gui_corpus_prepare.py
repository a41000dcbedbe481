"""The corpus tab's first preparation in the real window: how far it is and how long is left, Stop,
and Resume carrying on from the tunes kept; and the tune-book picker of an 800-tune book, which
searches and loads a tune only when it is chosen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.support import write_abc_corpus
from tests.support.gui import click_tune, open_and_wait


@pytest.fixture
def big_corpus_window(qtbot, tmp_path, isolated_user_dirs, monkeypatch):
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    folder = write_abc_corpus(tmp_path / "my-corpus" / "book", count=200, seed=4)
    win = MainWindow(AppSettings(tmp_path / "settings.ini"), corpus=str(folder.parent))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.worker.stop_all(wait_ms=30000)


def test_the_first_preparation_shows_time_left_stops_and_resumes(qtbot, big_corpus_window, tmp_path):
    from musicgen.corpus import prepared_path

    win = big_corpus_window
    browser = win.ui.corpus
    label = browser.status_label
    win.ui.tabs.setCurrentWidget(browser)
    browser.load_button.click()
    assert browser.load_button.isHidden() and not browser.stop_button.isHidden()
    qtbot.waitUntil(lambda: "left." in label.text(), timeout=120000)
    assert label.text().startswith("Preparing the corpus (only the first time): ")
    assert " of 200 tunes parsed, about " in label.text()
    browser.stop_button.click()
    qtbot.waitUntil(lambda: label.text().startswith("Stopped:"), timeout=120000)
    kept = int(label.text().split(":")[1].split(" of ")[0].replace(",", ""))
    assert 0 < kept < 200
    assert label.text() == f"Stopped: {kept} of 200 tunes are parsed and kept. Resume carries on from there."
    assert browser.load_button.text() == "Resume preparing the corpus" and not browser.load_button.isHidden()
    assert browser.stop_button.isHidden()
    assert not prepared_path(tmp_path / "my-corpus").exists()

    with qtbot.waitSignal(win.seeds.corpus_loaded, timeout=120000) as loaded:
        browser.load_button.click()
        qtbot.waitUntil(lambda: label.text().startswith("Resuming: "), timeout=60000)
        resumed = label.text()
    done_before = int(resumed.split("Resuming: ")[1].split(" of ")[0].replace(",", ""))
    assert done_before >= kept and "of 200 tunes parsed before." in resumed
    assert len(loaded.args[0]) == 200 and len(browser.visible_titles()) == 200
    assert label.text().startswith("200 tunes.")
    assert win.status.message == "The corpus is loaded: 200 tunes."


def _book(path: Path, count: int, broken: int) -> Path:
    tunes = []
    for n in range(1, count + 1):
        if n == broken:
            tunes.append(f"X:{n}\nT:Broken Reel\nM:4/4\nL:1/8\nK:D\n")  # a header and no music
        else:
            step = "CDEFGAB"[n % 7]
            tunes.append(f"X:{n}\nT:Tune {n}\nM:4/4\nL:1/8\nK:C\n{step}2E2 G2c2|{step}8|]\n")
    path.write_text("\n".join(tunes), encoding="utf-8")
    return path


def test_the_tune_book_picker_searches_and_loads_only_the_tune_chosen(qtbot, window, tmp_path):
    book = _book(tmp_path / "session.abc", 800, broken=400)
    first = open_and_wait(qtbot, window, book)
    panel = window.ui.seed_panel
    picker, tunes = panel.parts_picker, panel.parts_list
    assert first.title == "Tune 1" and tunes.count() == 800
    assert not picker.search_edit.isHidden()

    reads: list[object] = []
    window.seed.seed_changed.connect(reads.append)
    errors: list[str] = []
    window.dialogs.error_shown.connect(errors.append)
    tunes.setFocus()
    for _ in range(5):  # browsing with the keys moves the highlight only
        qtbot.keyClick(tunes, Qt.Key.Key_Down)
    qtbot.keyClicks(tunes, "Broken")  # the list's own type-ahead passes the unreadable tune
    qtbot.keyClicks(picker.search_edit, "broken")
    assert picker.visible_names() == ["Broken Reel"]
    picker.search_edit.clear()
    qtbot.keyClicks(picker.search_edit, "tune 61")
    matching = [f"Tune {n}" for n in range(1, 801) if "61" in str(n)]
    assert picker.visible_names() == matching and matching[0] == "Tune 61"
    with qtbot.assertNotEmitted(window.seed.seed_changed, wait=500):
        pass
    assert reads == [] and errors == [] and window.seed.melody is first

    with qtbot.waitSignal(window.seed.seed_changed, timeout=30000) as chosen:
        qtbot.keyClick(picker.search_edit, Qt.Key.Key_Return)  # Enter loads the highlighted tune
    assert chosen.args[0].title == "Tune 61"
    assert picker.visible_names() == matching  # the search stays while another tune is loaded
    row = picker.visible_names().index("Tune 612")
    visible_rows = [r for r in range(tunes.count()) if not tunes.item(r).isHidden()]
    with qtbot.waitSignal(window.seed.seed_changed, timeout=30000) as clicked:
        click_tune(qtbot, tunes, visible_rows[row])
    assert clicked.args[0].title == "Tune 612" and window.seed.melody is clicked.args[0]

    picker.search_edit.clear()
    qtbot.keyClicks(picker.search_edit, "broken")
    with qtbot.waitSignal(window.dialogs.error_shown, timeout=30000) as shown:
        click_tune(qtbot, tunes, 399)  # chosen on purpose: now the user hears why it cannot be read
    assert "tune 400" in shown.args[0] and window.seed.melody is clicked.args[0]
