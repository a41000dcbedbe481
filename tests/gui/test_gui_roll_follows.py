"""The roll follows the music: after Generate and when another variation is picked, the new bars
are in view with a few bars of seed before them; Fit to window fits any melody; a set's
variations share the roll's rows. Through the real window with real (tiny) models."""

from __future__ import annotations

import pytest

from musicgen.melody import Key, Melody, Meter
from tests.support.gui import generate_and_wait, select_model


def _long_seed(bars: int, meter: Meter = Meter(4, 4)) -> Melody:
    """A seed of ``bars`` bars of eighth notes climbing and falling in D (whole-tune length)."""
    per_bar = meter.bar_ticks // 6
    line = [62, 64, 66, 67, 69, 71, 73, 74, 73, 71, 69, 67, 66, 64]
    pitches = [line[i % len(line)] for i in range(bars * per_bar)]
    return Melody.from_pitches(pitches, 6, meter=meter, key=Key(2, "major"), title="Long reel")


@pytest.mark.parametrize("size", [(1024, 600), (1366, 768)])
def test_the_new_bars_are_in_view_after_generate_and_on_each_variation(qtbot, models_window, size):
    win = models_window
    win.resize(*size)
    select_model(win, "lstm")
    seed = _long_seed(32)
    with qtbot.waitSignal(win.seed.seed_changed):
        win.seeds.use(seed)
    roll = win.ui.roll
    assert roll.horizontalScrollBar().value() == 0  # a seed alone is shown from its start
    win.ui.sampling.replace_values(variations=3, bars=8, new_seed_each_time=False, rng_seed=3,
                                   temperature=1.3, cadence=False)
    melodies = generate_and_wait(qtbot, win)
    bar = seed.meter.bar_ticks
    end = seed.duration_ticks
    for row, melody in enumerate(melodies):
        win.ui.variations.setCurrentRow(row)
        assert roll.melody is melody
        first, last = roll.visible_ticks()
        # two bars of seed before the new music, and the new music to its end
        assert end - 2 * bar - 1 <= first <= end - bar
        assert last >= melody.duration_ticks
        assert roll.horizontalScrollBar().value() > 0


def test_a_sets_variations_share_the_rolls_rows(qtbot, models_window):
    win = models_window
    select_model(win, "transformer")
    win.ui.sampling.replace_values(variations=4, bars=4, new_seed_each_time=False, rng_seed=8,
                                   temperature=1.6)
    melodies = generate_and_wait(qtbot, win)
    assert len({m.pitch_range for m in melodies}) > 1  # the ranges differ: the test can fail
    rows = set()
    for row in range(4):
        win.ui.variations.setCurrentRow(row)
        rows.add((win.ui.roll._low, win.ui.roll._high))
    assert len(rows) == 1
    low, high = rows.pop()
    assert all(low <= m.pitch_range[0] and m.pitch_range[1] <= high for m in melodies)


@pytest.mark.parametrize("bars", [41, 300])
@pytest.mark.parametrize("size", [(1024, 600), (1366, 768)])
def test_fit_to_window_fits_a_whole_melody(qtbot, window, bars, size):
    """A 41-bar melody did not fit: the zoom floor was above what it needed."""
    window.resize(*size)
    with qtbot.waitSignal(window.seed.seed_changed):
        window.seeds.use(_long_seed(bars, Meter(6, 8)))
    roll = window.ui.roll
    window.actions.zoom_fit.trigger()
    assert roll.content_width() <= roll.viewport().width()
    first, last = roll.visible_ticks()
    assert first <= 0 and last >= roll.melody.duration_ticks
    window.actions.zoom_out.trigger()  # zooming out stops at the whole melody
    assert roll.content_width() <= roll.viewport().width()
    image = roll.grab()  # paints at that zoom (bar numbers thinned, no beat lines)
    assert not image.isNull()
    window.actions.zoom_in.trigger()
    assert roll.content_width() > roll.viewport().width() or bars < 60


def test_the_score_follows_to_the_new_bars(qtbot, models_window):
    win = models_window
    win.resize(1024, 600)
    win.score.set_mode("both")
    select_model(win, "lstm")
    with qtbot.waitSignal(win.seed.seed_changed):
        win.seeds.use(_long_seed(32))
    win.ui.sampling.replace_values(variations=2, bars=8, new_seed_each_time=False, rng_seed=3,
                                   cadence=False)
    with qtbot.waitSignal(win.score.engraved, timeout=120000,
                          check_params_cb=lambda r: r.melody is win.ui.roll.melody) as done:
        melodies = generate_and_wait(qtbot, win)
    score = win.ui.score
    assert done.args[0].melody is melodies[0]
    boundary = melodies[0].seed_end_ticks
    first_new = next(n for n in score.engraving.notes
                     if melodies[0].notes[n.note_indices[0]].onset_ticks >= boundary)
    top = score.verticalScrollBar().value()
    assert top > 0  # a 32-bar seed fills more than the view: it was scrolled
    assert top <= first_new.y <= top + score.viewport().height()
