"""Screenshot of the seed pane after opening a two-track MIDI file in the real window: the track
list on the track the command line takes ("Using track 2: Fiddle" in the reader's notes), the key
field, and the tempo in the jig's beat (docs/app-seed-notes.png):

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot_seed.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from screenshots import _pump, _wait_for  # noqa: E402


def two_track_jig(path: Path) -> Path:
    """The Kesh played on a fiddle (track 2) over a few bass notes (track 1), played by hand:
    onsets a little early or late."""
    import random

    import mido

    from musicgen.io import read_melody

    kesh = read_melody(ROOT / "data" / "kesh-jig.abc")
    rng, tpq = random.Random(3), 480
    mid = mido.MidiFile(type=1, ticks_per_beat=tpq)
    mid.tracks.append(mido.MidiTrack([
        mido.MetaMessage("time_signature", numerator=6, denominator=8, time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(165), time=0)]))
    for name, channel, notes in (
            ("Bass", 1, [(43, i * 36, 30) for i in range(8)]),
            ("Fiddle", 0, [(n.pitch, n.onset_ticks, n.duration_ticks) for n in kesh.pitched_notes])):
        events = []
        for pitch, on, dur in notes:
            start = max(0, on * tpq // 12 + rng.randint(-25, 25))
            events += [(start, 1, pitch), (start + dur * tpq * 9 // 120, 0, pitch)]
        track, now = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)]), 0
        for at, kind, pitch in sorted(events):
            track.append(mido.Message("note_on" if kind else "note_off", note=pitch, channel=channel,
                                      velocity=80 if kind else 0, time=at - now))
            now = at
        mid.tracks.append(track)
    mid.save(str(path))
    return path


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        seed = two_track_jig(Path(tmp) / "session-jig.mid")
        window = MainWindow(AppSettings(Path(tmp) / "settings.ini"))
        window.resize(1366, 768)
        window.show()
        window.start(str(seed), preload_model=False)
        _wait_for(app, window.seed.seed_changed)
        _pump(app, 1.5)
        out = ROOT / "docs" / "app-seed-notes.png"
        window.grab().save(str(out))
        print(f"wrote {out}")
        window.worker.stop_all(wait_ms=10000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
