"""Helpers the GUI tests import (a uniquely named module: `import conftest` is ambiguous across folders)."""

from __future__ import annotations
from pathlib import Path


KESH_ABC = """X:1
T:The Kesh
M:6/8
L:1/8
K:G
|:GAG GAB|ABA ABd|edd gdd|edB dBA|GAG GAB|ABA ABd|edd gdB|AGF G3:|
"""


TUNE_BOOK_ABC = """X:1
T:First Tune
M:4/4
L:1/8
K:D
DEFG ABcd|efge fdec|d8|]

X:2
T:Second Tune
M:3/4
L:1/4
K:G
GAB|cde|d3|]

X:3
T:Third Tune
M:2/4
L:1/8
K:A
ABcd|e4|]
"""


MUSICXML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 3.1 Partwise//EN"
  "http://www.musicxml.org/dtds/partwise.dtd">
<score-partwise version="3.1">
  <work><work-title>XML Air</work-title></work>
  <part-list><score-part id="P1"><part-name>Flute</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>1</divisions><key><fifths>0</fifths></key>
        <time><beats>4</beats><beat-type>4</beat-type></time></attributes>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><pitch><step>E</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><pitch><step>G</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><pitch><step>E</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
    </measure>
    <measure number="2">
      <note><pitch><step>D</step><octave>5</octave></pitch><duration>2</duration><type>half</type></note>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>2</duration><type>half</type></note>
    </measure>
  </part>
</score-partwise>
"""


def write_midi(path: Path, tracks: list[list[int]], ticks_per_beat: int = 480) -> Path:
    """A type-1 MIDI file with one track per pitch list (quarter notes, channel = track number)."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    mid.tracks.append(meta)
    for channel, pitches in enumerate(tracks):
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=f"Line {channel + 1}", time=0))
        for pitch in pitches:
            track.append(mido.Message("note_on", note=pitch, velocity=80, channel=channel, time=0))
            track.append(mido.Message("note_off", note=pitch, velocity=0, channel=channel,
                                      time=ticks_per_beat))
        mid.tracks.append(track)
    mid.save(str(path))
    return path


def open_and_wait(qtbot, win, path: Path | str, part: int | None = None, timeout: int = 30000):
    """Open a seed file through the window and wait until it is the seed."""
    with qtbot.waitSignal(win.seed_changed, timeout=timeout) as blocker:
        win.open_path(str(path), part)
    return blocker.args[0]


def generate_and_wait(qtbot, win, timeout: int = 120000):
    """Press Generate and wait for the variations."""
    with qtbot.waitSignal(win.generation_finished, timeout=timeout) as done:
        win.ui.generate_button.click()
    return done.args[0]


def select_model(win, kind: str) -> str:
    panel = win.ui.model_panel
    for i in range(panel.combo.count() - 1):
        if panel.combo.itemText(i).lower().startswith(kind):
            panel._on_activated(i)
            return panel.current_model()
    raise AssertionError(f"no {kind} model listed")
