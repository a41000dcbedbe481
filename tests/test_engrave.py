"""Engraving with verovio: SVG that QtSvg can draw (no nested svg, no stylesheet, no tspan), every
melody note drawn and placed, seed and continuation coloured, repeats written once."""

from __future__ import annotations

import re

import pytest

from musicgen.engrave import CONTINUATION_COLOUR, SEED_COLOUR, _played_onsets, _timemap_onsets, engrave
from musicgen.io import abc_text_to_melody
from musicgen.melody import Key, Melody, Meter, PartForm, TuneForm
from musicgen.svgtiny import simplify_svg
from tests.support import KESH_ABC

VEROVIO_LIKE = """<svg width="100px" height="50px" xmlns="http://www.w3.org/2000/svg" \
xmlns:xlink="http://www.w3.org/1999/xlink" id="p"><defs><g id="G"><path d="M0 0 L10 10"/></g></defs>
<style type="text/css">#p path {stroke:currentColor}</style>
<svg class="definition-scale" color="black" viewBox="0 0 1000 500">
<g class="page-margin" transform="translate(10, 20)">
<g id="ph" class="sb placeholder"><ellipse cx="0" cy="0" rx="9" ry="9"/></g>
<g id="n1" class="note"><g class="notehead"><use xlink:href="#G" transform="translate(5, 6)"/></g>
<g class="stem"><path d="M1 1 L1 9" stroke-width="2"/></g></g>
<g class="mNum"><text x="3" y="4" font-size="0px"><tspan font-size="40px">12</tspan></text></g>
<g class="tempo"><text x="1" y="2" font-size="0px" /></g>
</g></svg></svg>"""


def test_simplified_svg_has_only_what_qtsvg_draws():
    out = simplify_svg(VEROVIO_LIKE, {"n1": "#e07b2a"})
    assert out.count("<svg") == 1 and "<style" not in out and "<tspan" not in out
    assert "placeholder" not in out and "<ellipse" not in out
    assert '<g transform="scale(0.1, 0.1)" class="definition-scale">' in out
    assert re.search(r'<text[^>]*font-size="40px"[^>]*>12</text>', out)
    assert re.search(r'<use [^>]*fill="#e07b2a"', out)  # the note in its colour
    assert re.search(r'<path d="M1 1 L1 9" stroke-width="2" stroke="#e07b2a"', out)
    assert '<path d="M0 0 L10 10"/>' in out  # glyph outlines are left to the <use> colour
    assert 'font-style="italic"' in out


def generated_kesh() -> Melody:
    kesh = abc_text_to_melody(KESH_ABC)
    return kesh.replace(seed_end_ticks=kesh.duration_ticks // 2,
                        metadata=(("model", "x"), ("temperature", "1.0")))


def test_every_note_is_drawn_placed_and_coloured_by_role():
    melody = generated_kesh()
    engraving = engrave(melody, 700)
    drawn = {i for n in engraving.notes for i in n.note_indices}
    assert drawn == set(range(len(melody.notes)))
    assert 0 < engraving.width_px <= 700 + 1 and engraving.height_px > 100  # wrapped systems
    rows = {round(n.y / 40) for n in engraving.notes}
    assert len(rows) > 1
    for n in engraving.notes:
        assert 0 < n.x < engraving.width_px and 0 < n.y < engraving.height_px
        onset = melody.notes[n.note_indices[0]].onset_ticks
        colour = CONTINUATION_COLOUR if onset >= melody.seed_end_ticks else SEED_COLOUR
        group = re.search(rf'<g id="{n.element_id}"[^>]*fill="([^"]+)"', engraving.svg)
        assert not n.is_rest and group and group.group(1) == colour
    xs = [n.x for n in engraving.notes[:8]]
    assert xs == sorted(xs)  # the first system runs left to right in melody order


def test_a_repeated_part_is_written_once_and_stands_for_both_passes():
    body = Melody.from_pitches([67, 69, 71, 72, 74, 72, 71, 69], 12, meter=Meter(4, 4),
                               key=Key(7, "major"))
    played = body.concatenated(body).replace(
        form=TuneForm((PartForm("A", 0, body.duration_ticks),)))
    engraving = engrave(played, 800)
    assert len(engraving.notes) == 8
    assert [n.note_indices for n in engraving.notes] == [(i, i + 8) for i in range(8)]


@pytest.mark.parametrize("abc_body", ["c3/2d/ (3cde f2 | (3efg a2 g4 |",
                                      "G>A B2 (3:2:3cBA G2 | z2 (3gfe d4 |"])
def test_written_onsets_agree_with_verovios_timemap(abc_body):
    """The k-th drawn note or rest stands for the k-th one written: its onset read from the ABC
    text is the one verovio's own timemap gives."""
    from musicgen.engrave import _ELEMENT, _for_verovio, _toolkit
    from musicgen.io.abc_writer import melody_to_abc

    melody = abc_text_to_melody(f"X:1\nT:t\nM:4/4\nL:1/8\nK:C\n{abc_body}]\n")
    abc = _for_verovio(melody_to_abc(melody))
    toolkit = _toolkit(800, 45)
    toolkit.loadData(abc)
    found = _ELEMENT.findall(toolkit.renderToSVG(1))
    played = _played_onsets(abc, melody)
    assert played == _timemap_onsets(toolkit, [f[0] for f in found])
    assert [t for (t,) in played] == [n.onset_ticks for n in melody.notes]


def test_engraving_works_on_any_thread():
    """verovio gives a toolkit made off the importing thread a resource path it cannot load fonts
    from: every engraving after the first then failed in the app's worker pool."""
    import threading

    results: list = []
    melodies = [generated_kesh(), abc_text_to_melody("X:1\nM:4/4\nL:1/8\nK:C\nc2e2g2e2|d4c4|]\n")]
    for melody in melodies * 2:
        thread = threading.Thread(target=lambda m=melody: results.append(len(engrave(m).notes)))
        thread.start()
        thread.join()
    assert results == [len(m.notes) for m in melodies] * 2
