"""The widgets on their own: piano roll, sampling panel, model panel, corpus browser, variations."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QPoint, Qt

from musicgen.melody import Key, Melody, Meter


def _generated() -> Melody:
    seed = Melody.from_pitches([62, 64, 66, 67, 69, 71], duration_ticks=6, meter=Meter(6, 8),
                               key=Key(2, "major"), title="Test")
    cont = Melody.from_pitches([74, None, 73, 71, 69, 67], duration_ticks=6)
    return seed.concatenated(cont).replace(seed_end_ticks=seed.duration_ticks).with_metadata(
        model="lstm", temperature="0.8", top_p="0.9", rng_seed="42", bars="1")


def test_piano_roll_colours_hover_and_click(qtbot):
    from gui.widgets.piano_roll import PianoRollView

    roll = PianoRollView()
    qtbot.addWidget(roll)
    roll.resize(600, 300)
    roll.show()
    melody = _generated()
    roll.set_melody(melody)
    roles = [role for _note, role in roll.note_spans()]
    assert roles == ["seed"] * 6 + ["continuation"] * 5  # the rest is not drawn
    first = roll.note_spans()[0][0]
    centre = roll.note_rect(first).center().toPoint()
    assert roll.note_at(centre) == first
    assert roll.describe_note(first).startswith("D4 · bar 1")
    assert roll.note_at(QPoint(centre.x(), 2)) is None
    with qtbot.waitSignal(roll.seek_requested) as seek:
        qtbot.mouseClick(roll.widget(), Qt.MouseButton.LeftButton, pos=centre)
    assert seek.args[0] == first.onset_ticks  # a click on a note plays from its start
    empty = QPoint(int(roll.tick_to_x(20)), 2)
    with qtbot.waitSignal(roll.seek_requested) as seek:
        qtbot.mouseClick(roll.widget(), Qt.MouseButton.LeftButton, pos=empty)
    assert seek.args[0] == 20
    width = roll.widget().width()
    roll.set_zoom(roll.px_per_tick * 4)
    assert roll.widget().width() > width
    roll.set_playhead(30)
    assert roll.playhead_ticks == 30
    roll.grab()  # paints without error


def test_sampling_panel_ranges_slider_and_dice(qtbot):
    import random

    from gui.widgets.sampling_panel import SAMPLING_DEFAULTS, SamplingPanel
    from musicgen.generation import GenerationConfig

    panel = SamplingPanel()
    qtbot.addWidget(panel)
    assert panel.values().temperature == 1.0
    assert (panel.temperature_spin.minimum(), panel.temperature_spin.maximum()) == (0.1, 2.0)
    assert (panel.variations_spin.minimum(), panel.variations_spin.maximum()) == (1, 8)
    panel.temperature_slider.setValue(150)
    assert panel.values().temperature == 1.5
    panel.temperature_spin.setValue(0.3)
    assert panel.temperature_slider.value() == 30
    seed = panel.roll_dice(random.Random(7))
    assert panel.values().rng_seed == seed == random.Random(7).randrange(2**31 - 1)
    panel.new_seed_check.setChecked(False)
    assert panel.values_for_next_generation().rng_seed == seed
    panel.new_seed_check.setChecked(True)
    assert panel.values_for_next_generation().rng_seed != seed
    config = panel.values()
    assert isinstance(config, GenerationConfig) and config.temperature == 0.3
    assert not hasattr(config, "new_seed_each_time") and panel.new_seed_each_time
    restored = GenerationConfig.from_dict(
        {"temperature": 2, "bars": "x", "junk": 1, "key_lock": True, "variations": 999},
        SAMPLING_DEFAULTS)
    assert restored.temperature == 2.0 and restored.bars == 8 and restored.key_lock
    assert restored.variations == 4 and restored.rng_seed == 1234
    panel.set_values(restored)
    assert panel.values() == restored


@dataclass
class _Card:
    name: str
    path: str
    kind: str
    parameters: int
    corpus: str
    bits_per_note: float | None


def test_model_panel_lists_cards_and_asks_for_other_checkpoints(qtbot):
    from gui.widgets.model_panel import OTHER_CHECKPOINT, ModelPanel

    panel = ModelPanel()
    qtbot.addWidget(panel)
    cards = [_Card("lstm", "/c/lstm.safetensors", "lstm", 1_200_000, "folk", 2.41),
             _Card("transformer", "/c/t.safetensors", "transformer", 850_000, "folk", None)]
    panel.set_models(cards, selected="transformer")
    assert [panel.combo.itemText(i) for i in range(3)] == [
        "LSTM · lstm", "Transformer · transformer", OTHER_CHECKPOINT]
    assert panel.current_model() == "/c/t.safetensors"
    panel.set_models(cards, selected="lstm")  # a kind selects that kind's model
    assert panel.current_model() == "/c/lstm.safetensors"
    panel.set_models(cards, selected="/c/t.safetensors")
    assert "850 k parameters" in panel.card_label.text()
    assert "not measured" in panel.card_label.text()
    with qtbot.waitSignal(panel.other_checkpoint_requested):
        panel._on_activated(2)
    assert panel.current_model() == "/c/t.safetensors"
    with qtbot.waitSignal(panel.model_chosen) as chosen:
        panel.add_checkpoint(_Card("lstm", "/mine.safetensors", "lstm", 5000, "mine", 3.0),
                             "/mine.safetensors")
    assert chosen.args[0] == "/mine.safetensors" == panel.current_model()
    assert "3.00" in panel.card_label.text() and "mine" in panel.card_label.text()


@dataclass
class _Tune:
    title: str
    collection: str
    split: str
    melody: Melody


def test_corpus_browser_searches_title_and_collection(qtbot):
    from gui.widgets.corpus_browser import CorpusBrowser

    browser = CorpusBrowser()
    qtbot.addWidget(browser)
    melody = _generated()
    browser.set_tunes([_Tune("The Kesh", "Ireland", "train", melody),
                       _Tune("Morrison's Jig", "Ireland", "test", melody),
                       _Tune("Cooley's Reel", "Nottingham", "valid", melody)])
    browser.search("kesh")
    assert browser.visible_titles() == ["The Kesh"]
    browser.search("nottingham")
    assert browser.visible_titles() == ["Cooley's Reel"]
    browser.search("ireland jig")
    assert browser.visible_titles() == ["Morrison's Jig"]
    with qtbot.waitSignal(browser.tune_chosen) as chosen:
        browser.choose_row(0)
    assert chosen.args[0].title == "Morrison's Jig"


def test_variations_list_shows_each_variations_settings(qtbot):
    from gui.widgets.variations_list import VariationsList, describe_settings

    listing = VariationsList()
    qtbot.addWidget(listing)
    melody = _generated()
    assert describe_settings(melody) == "lstm · T 0.8 · top-p 0.9 · seed 42"
    with qtbot.waitSignal(listing.variation_selected) as selected:
        listing.set_variations([melody, melody.with_metadata(temperature="1.5")])
    assert selected.args[0] == 0 and listing.count() == 2
    assert "T 1.5" in listing.item(1).text()


def test_variations_list_keeps_each_generation_as_a_set(qtbot):
    from gui.widgets.variations_list import VariationsList

    listing = VariationsList()
    qtbot.addWidget(listing)
    cool = [_generated().with_metadata(temperature="0.8", rng_seed=s) for s in (1, 2)]
    hot = [_generated().with_metadata(temperature="1.3", rng_seed=s) for s in (3, 4, 5)]
    listing.add_set(cool)
    with qtbot.waitSignal(listing.variation_selected) as selected:
        listing.add_set(hot)
    assert selected.args == [2] and listing.currentRow() == 2  # the first of the new set
    assert listing.count() == 5 and listing.set_count == 2
    assert listing.melodies == cool + hot
    assert "Variation 1" in listing.item(0).text() and "T 0.8" in listing.item(0).text()
    assert "Variation 3 · set 2" in listing.item(2).text() and "T 1.3" in listing.item(2).text()
    listing.set_variations([])
    assert listing.count() == 0 and listing.melodies == [] and listing.set_count == 0


@pytest.mark.parametrize("pickup", [0, 3, 6])
@pytest.mark.parametrize("seed_notes", [5, 12, 13])
def test_new_bars_are_counted_as_a_musician_counts_them(pickup, seed_notes):
    """Completing the seed's unfinished bar is not a new bar; a short last bar is one."""
    from gui.widgets.variations_list import new_bar_count

    melody = Melody.from_pitches(list(range(60, 60 + 30)), 3, meter=Meter(6, 8),
                                 pickup_ticks=pickup)
    melody = melody.replace(seed_end_ticks=seed_notes * 3)
    cont = melody.continuation  # its pickup is what completes the seed's last bar
    whole, short = divmod(cont.duration_ticks - cont.pickup_ticks, 36)
    assert new_bar_count(melody) == whole + (1 if short else 0)
    assert new_bar_count(melody.replace(seed_end_ticks=None)) == 0


def test_a_seed_ending_mid_bar_gets_exactly_the_bars_asked(qtbot):
    """'Variation 1 (9 bars generated) · 8 bars' was the old label for 8 bars after a seed ending
    mid-bar: the bar the seed leaves open is completed, then 8 bars follow."""
    from gui.widgets.variations_list import VariationsList, describe_length

    seed = Melody.from_pitches([60, 62, 64, 65, 67, 69], 12, meter=Meter(4, 4), pickup_ticks=12)
    cont = Melody.from_pitches([69] * 3 + [67] * 32, 12, meter=Meter(4, 4))  # 3 beats + 8 bars
    melody = seed.concatenated(cont).replace(seed_end_ticks=seed.duration_ticks)
    assert seed.musician_bars == 2  # a pickup beat, a bar, and a bar begun
    assert describe_length(melody) == "8 new bars, 10 in all"
    listing = VariationsList()
    qtbot.addWidget(listing)
    listing.add_set([melody])
    assert listing.item(0).text().startswith("Variation 1 — 8 new bars, 10 in all")
    assert "9 bars generated" not in listing.item(0).text()


@pytest.mark.parametrize("all_variations", [False, True])
def test_export_dialog_builds_a_request(qtbot, tmp_path, all_variations):
    from gui.widgets.export_dialog import ExportDialog

    dialog = ExportDialog(str(tmp_path), "the-kesh", 4)
    qtbot.addWidget(dialog)
    dialog.format_combo.setCurrentIndex(1)  # ABC
    dialog.continuation_radio.setChecked(True)
    dialog.all_check.setChecked(all_variations)
    request = dialog.request()
    assert request.suffix == ".abc" and request.continuation_only
    assert request.all_variations == all_variations
    expected = tmp_path if all_variations else tmp_path / "the-kesh-continuation.abc"
    assert request.path == str(expected)


def test_model_panel_never_sets_figures_on_other_tunes_side_by_side(qtbot):
    """The shipped LSTM's 2.75 on the folk test split beside a fine-tune's 2.06 on 16 of the
    user's tunes looked like the fine-tune was better: each figure says its tunes, and only
    figures on the same tunes are named as comparable."""
    from pathlib import Path

    from gui.widgets.model_panel import ModelPanel
    from musicgen.library import ModelInfo

    folk = "the folk test split"
    cards = [ModelInfo("lstm-folk", Path("/c/lstm-folk.safetensors"), "lstm", 3_000_000, "folk",
                       2.75, folk),
             ModelInfo("transformer-folk", Path("/c/transformer-folk.safetensors"), "transformer",
                       3_100_000, "folk", 2.61, folk),
             ModelInfo("my-reels", Path("/m/my-reels.safetensors"), "lstm", 3_000_000, "my reels",
                       2.06, "16 of your own tunes held out (my reels)", bits_before=2.90,
                       base="lstm-folk", user=True)]
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.set_models(cards, selected="lstm-folk")
    text = panel.card_label.text()
    assert "2.75" in text and "on the folk test split" in text
    assert "Compares with transformer-folk (2.61): the same tunes." in text
    assert "Not comparable with my-reels: measured on other tunes." in text
    assert "2.06" not in text  # the fine-tune's figure is not set beside this one
    panel.set_models(cards, selected="my-reels")
    text = panel.card_label.text()
    assert "2.06" in text and "on 16 of your own tunes held out (my reels)" in text
    assert "lstm-folk on the same tunes: 2.90" in text  # the comparable pair: before and after
    assert "Not comparable with lstm-folk, transformer-folk" in text and "2.75" not in text
