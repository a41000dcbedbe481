"""The corpus browser in the real window against a real prepared folder corpus: ABC tunes written
into a folder (one sub-folder per collection), prepared by `musicgen.corpus.load_corpus(DIR)` in the
worker with the data and cache folders under tmp_path, then searched, filtered and used as a seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from PySide6.QtCore import Qt

from gui.widgets.corpus_browser import ALL_COLLECTIONS

TUNES = {
    "jigs/kesh.abc": ("The Kesh", "6/8", "G", "GAG GAB|ABA ABd|edd gdd|edB dBA|"),
    "jigs/lark.abc": ("Lark in the Morning", "6/8", "D", "AFA AFA|BGB BdB|AFA AFA|fed BdB|"),
    "jigs/swallow.abc": ("Swallowtail Jig", "6/8", "Em", "GEE BEE|GEE BAG|FDD ADD|dcd AGF|"),
    "reels/silver.abc": ("Silver Spear", "4/4", "D", "FA A2 BAFA|dfed BddB|FA A2 BAFA|defd e2 dB|"),
    "reels/morning.abc": ("Morning Star", "4/4", "D", "defd cdec|dBAF GFEF|defd cdec|dBAG FDD2|"),
}


def _write_corpus(root: Path) -> Path:
    for relative, (title, meter, key, body) in TUNES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        rhythm = "jig" if relative.startswith("jigs") else "reel"  # the R: field fills the Type column
        path.write_text(f"X:1\nT:{title}\nR:{rhythm}\nM:{meter}\nL:1/8\nK:{key}\n|:{body}:|\n")
    return root


@pytest.fixture
def corpus_window(qtbot, tmp_path, isolated_user_dirs, monkeypatch):
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    folder = _write_corpus(tmp_path / "my-corpus")
    win = MainWindow(AppSettings(tmp_path / "settings.ini"), corpus=str(folder))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.worker.stop_all(wait_ms=10000)


def test_search_filter_and_use_a_corpus_tune_as_the_seed(qtbot, corpus_window, tmp_path):
    from musicgen.corpus import prepared_path

    win = corpus_window
    browser = win.ui.corpus
    win.ui.tabs.setCurrentWidget(browser)
    with qtbot.waitSignal(win.seeds.corpus_loaded, timeout=120000) as loaded:
        browser.load_button.click()
    assert len(loaded.args[0]) == len(TUNES)
    assert prepared_path(tmp_path / "my-corpus").is_file()  # prepared under MUSICGEN_DATA_DIR
    assert prepared_path(tmp_path / "my-corpus").is_relative_to(tmp_path / "data")
    assert sorted(browser.visible_titles()) == sorted(t[0] for t in TUNES.values())
    assert not browser.load_button.isVisible() and "5 tunes" in browser.status_label.text()
    header = [browser.table.model().headerData(c, Qt.Orientation.Horizontal) for c in range(5)]
    assert header == ["Title", "Type", "Meter", "Key", "Collection"]  # no "Split" jargon
    kesh = browser.visible_titles().index("The Kesh")
    row = [browser.table.model().index(kesh, c).data() for c in range(5)]
    assert row[1] == "jig" and row[2] == "6/8" and row[3] == "G major" and row[4] == "jigs"
    qtbot.keyClicks(browser.search_edit, "reel")  # the type is searched too
    assert sorted(browser.visible_titles()) == ["Morning Star", "Silver Spear"]
    browser.search_edit.clear()
    assert browser.visible_titles() == sorted(browser.visible_titles())  # sorted by title

    combo = browser.collection_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [ALL_COLLECTIONS, "jigs", "reels"]
    qtbot.keyClicks(browser.search_edit, "morning")
    assert sorted(browser.visible_titles()) == ["Lark in the Morning", "Morning Star"]
    combo.setCurrentIndex(combo.findText("reels"))
    assert browser.visible_titles() == ["Morning Star"]
    combo.setCurrentIndex(combo.findText("jigs"))
    assert browser.visible_titles() == ["Lark in the Morning"]
    browser.search_edit.clear()
    assert sorted(browser.visible_titles()) == ["Lark in the Morning", "Swallowtail Jig", "The Kesh"]

    qtbot.keyClicks(browser.search_edit, "swallow")
    browser.table.selectRow(0)
    with qtbot.waitSignal(win.seed.seed_changed, timeout=10000) as changed:
        browser.use_button.click()
    seed = changed.args[0]
    assert seed.title == "Swallowtail Jig" and str(seed.meter) == "6/8"
    assert seed.pitched_notes[0].pitch == 67 and seed.pitched_notes[1].pitch == 64  # G E
    assert win.seed.melody is seed and win.ui.roll.melody is seed and win.seed.path is None
    assert "Swallowtail Jig" in win.status.message


def test_a_corpus_folder_that_cannot_be_read_is_said_in_the_browser(qtbot, tmp_path,
                                                                    isolated_user_dirs,
                                                                    monkeypatch):
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    monkeypatch.setenv("MUSICGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE_DIR", str(tmp_path / "cache"))
    win = MainWindow(AppSettings(tmp_path / "settings.ini"), corpus=str(tmp_path / "missing"))
    qtbot.addWidget(win)
    before = win.ui.corpus.status_label.text()
    job = win.seeds.load_corpus()
    with qtbot.waitSignal(job.failed, timeout=60000):
        pass
    text = win.ui.corpus.status_label.text()
    assert text != before and "missing" in text
    assert not win.ui.corpus.load_button.isHidden()  # still there to try again
    win.worker.stop_all(wait_ms=10000)


@pytest.mark.parametrize("size", [(1024, 600), (1366, 768)])
def test_titles_keep_their_room_in_a_narrow_window(qtbot, corpus_window, size):
    """Issue 15: the title column was about 60 px wide (26 px at 1024 x 600, the Type column
    sized to Essen's longest type). Now titles keep at least 45% of the table and 120 px, the
    other columns share the rest, elided, and the table needs no sideways scrolling."""
    win = corpus_window
    win.resize(*size)
    browser = win.ui.corpus
    win.ui.tabs.setCurrentWidget(browser)
    with qtbot.waitSignal(win.seeds.corpus_loaded, timeout=120000):
        browser.load_button.click()
    qtbot.wait(50)
    table = browser.table
    width = table.viewport().width()
    titles = table.columnWidth(0)
    assert titles >= min(120, width) and titles >= 0.45 * width - 1
    assert sum(table.columnWidth(c) for c in range(5)) <= width + 1
    assert not table.horizontalScrollBar().isVisible()
