"""WAV writing: a real file re-read with `wave`, and atomic replacement that keeps the old file."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from musicgen.errors import WriteError
from musicgen.melody import Melody
from musicgen.playback import float_to_int16, render, wav_bytes, write_wav
from musicgen.playback.analysis import estimate_frequency_hz


def test_written_wav_has_rate_length_and_samples(tmp_path: Path) -> None:
    melody = Melody.from_pitches([69, None, 72], tempo_bpm=90.0)
    samples = render(melody, sample_rate_hz=22050)
    out = write_wav(tmp_path / "tune.wav", samples, 22050)
    assert out == tmp_path / "tune.wav"
    with wave.open(str(out), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        assert wav.getnframes() == samples.size == round(3 * 60.0 / 90.0 * 22050)
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    np.testing.assert_array_equal(data, float_to_int16(samples))
    first_note = data[2000:12000].astype(np.float64) / 32768.0
    assert estimate_frequency_hz(first_note, 22050) == pytest.approx(440.0, rel=0.003)
    assert list(tmp_path.iterdir()) == [out], "no temporary file may be left behind"


def test_int16_input_is_written_unchanged_and_clipping_is_safe() -> None:
    pcm = np.array([0, 1000, -32768, 32767], dtype=np.int16)
    assert wav_bytes(pcm, 8000)[44:] == pcm.astype("<i2").tobytes()
    loud = np.array([2.0, -2.0, 0.5], dtype=np.float32)
    assert list(float_to_int16(loud)) == [32767, -32767, 16384]


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "tune.wav"
    target.write_bytes(b"the previous file")
    with pytest.raises(WriteError):
        write_wav(target, np.zeros((2, 10), dtype=np.float32))  # stereo: refused before writing
    assert target.read_bytes() == b"the previous file"
    if os.geteuid() != 0:  # root ignores folder permissions
        tmp_path.chmod(0o500)
        try:
            with pytest.raises(WriteError, match="tune.wav"):
                write_wav(target, np.zeros(100, dtype=np.float32))
        finally:
            tmp_path.chmod(0o700)
        assert target.read_bytes() == b"the previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune.wav"]


def test_write_failure_midway_keeps_the_old_file(tmp_path: Path) -> None:
    """A full disk or similar during the write: simulated with a file-size limit (RLIMIT_FSIZE)."""
    resource = pytest.importorskip("resource")
    import signal

    target = tmp_path / "tune.wav"
    target.write_bytes(b"old")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of a kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))
    try:
        with pytest.raises(WriteError, match="tune.wav"):
            write_wav(target, np.zeros(10_000, dtype=np.float32))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["tune.wav"]


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="does not exist"):
        write_wav(tmp_path / "nowhere" / "tune.wav", np.zeros(10, dtype=np.float32))


def test_write_melody_handles_wav_once_playback_is_imported(tmp_path: Path) -> None:
    from musicgen.io import write_melody

    melody = Melody.from_pitches([60, 64, 67], tempo_bpm=120.0)
    out = write_melody(melody, tmp_path / "tune.WAV")
    with wave.open(str(out), "rb") as wav:
        assert wav.getframerate() == 44100
        assert wav.getnframes() == round(melody.duration_seconds * 44100)
