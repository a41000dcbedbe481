"""`musicgen generate` end to end: real seed files in, real MIDI/ABC/MusicXML/WAV files out."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import pytest

from musicgen.cli import main
from musicgen.io import read_melody

DATA = Path(__file__).resolve().parent.parent / "data"
KINDS = ("lstm", "transformer")


def generate(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["generate", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def added_ticks(seed, bars: int) -> int:
    """Ticks a continuation of `bars` bars adds: first the rest of the seed's last bar, if partial."""
    bar, end = seed.meter.bar_ticks, seed.duration_ticks
    partial = (end - seed.pickup_ticks) % bar
    return (bar - partial if partial else 0) + bars * bar


def assert_one_line_error(code: int, err: str, words: str, status: int = 1) -> None:
    assert code == status
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("musicgen: error: "), err
    assert words.lower() in lines[0].lower()
    assert "Traceback" not in err


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed_name", ["kesh-jig.abc", "kesh-jig.mid", "kesh-jig.musicxml"])
def test_generate_from_each_seed_format_with_each_model(capsys, tmp_path, tiny_checkpoints, kind, seed_name):
    seed_path = DATA / seed_name
    seed = read_melody(seed_path)
    out = tmp_path / "out.mid"
    code, stdout, _ = generate(capsys, str(seed_path), "--model", str(tiny_checkpoints[kind]),
                               "--variations", "2", "--bars", "4", "--key-lock", "--rng-seed", "9",
                               "-o", str(out))
    assert code == 0
    for number in (1, 2):
        melody = read_melody(tmp_path / f"out-{number}.mid")
        assert (melody.meter, melody.key) == (seed.meter, seed.key)
        assert melody.duration_ticks == seed.duration_ticks + added_ticks(seed, 4)
        added = melody.slice_ticks(seed.duration_ticks, melody.duration_ticks)
        assert all(seed.key.contains(n.pitch) for n in added.pitched_notes)
        meta = dict(melody.metadata)
        assert meta["model"] == f"{kind}-tiny" and meta["set_rng_seed"] == "9"
        assert meta["rng_seed"] == str(8 + number)  # each variation's own seed
        assert meta["variation"] == str(number) and meta["seed"] == seed_name
    assert not (tmp_path / "out.mid").exists()
    for words in (f"{kind}-tiny", seed_name, "temperature: 1.0", "RNG seed: 9", "4 bars", "notes",
                  "each variation's own: 9, 10"):
        assert words in stdout


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", [(), ("--cadence",), ("--form", "aabb", "--part-bars", "4")])
def test_one_variation_of_a_set_is_remade_alone(capsys, tmp_path, tiny_checkpoints, kind, options):
    """Variation K of a set seeded S has the notes of `--rng-seed S --variation K`, and of
    `--rng-seed S+K-1` alone (the seed its row shows)."""
    common = (str(DATA / "kesh-jig.abc"), "--model", str(tiny_checkpoints[kind]), "--bars", "4",
              "--temperature", "1.2", *options)
    code, _, _ = generate(capsys, *common, "--variations", "3", "--rng-seed", "40",
                          "-o", str(tmp_path / "set.abc"))
    assert code == 0
    code, stdout, _ = generate(capsys, *common, "--rng-seed", "40", "--variation", "3",
                               "-o", str(tmp_path / "third.abc"))
    assert code == 0 and "RNG seed: 42 (variation 3 of the set seeded 40)" in stdout
    code, _, _ = generate(capsys, *common, "--rng-seed", "42", "-o", str(tmp_path / "own.abc"))
    assert code == 0
    in_set = read_melody(tmp_path / "set-3.abc")
    alone, own = read_melody(tmp_path / "third.abc"), read_melody(tmp_path / "own.abc")
    assert in_set.notes == alone.notes == own.notes
    assert read_melody(tmp_path / "set-2.abc").notes != in_set.notes  # the variations differ
    meta = dict(alone.metadata)
    assert (meta["variation"], meta["rng_seed"], meta["set_rng_seed"]) == ("3", "42", "40")


def test_variation_needs_the_sets_seed(capsys, tmp_path, tiny_checkpoints):
    code, _, err = generate(capsys, str(DATA / "kesh-jig.abc"), "--model",
                            str(tiny_checkpoints["lstm"]), "--variation", "2",
                            "-o", str(tmp_path / "x.mid"))
    assert_one_line_error(code, err, "--variation K needs the set's --rng-seed", status=2)


def test_a_tune_of_a_book_and_summary(capsys, tmp_path, tiny_checkpoints):
    out = tmp_path / "reel.mid"
    code, stdout, _ = generate(capsys, str(DATA / "tunebook.abc"), "--tune", "2", "--model",
                               str(tiny_checkpoints["lstm"]), "--bars", "2", "-o", str(out))
    assert code == 0
    melody = read_melody(out)
    assert str(melody.meter) == "4/4" and melody.key.tonic_name == "D"
    assert "(tune 2)" in stdout and "RNG seed: " in stdout


@pytest.mark.parametrize("suffix", [".abc", ".musicxml"])
def test_other_score_formats_carry_the_music_and_provenance(capsys, tmp_path, tiny_checkpoints, suffix):
    mid, other = tmp_path / "a.mid", tmp_path / f"a{suffix}"
    common = [str(DATA / "kesh-jig.abc"), "--model", str(tiny_checkpoints["transformer"]),
              "--bars", "3", "--rng-seed", "4"]
    assert generate(capsys, *common, "-o", str(mid))[0] == 0
    assert generate(capsys, *common, "-o", str(other))[0] == 0
    from_mid, from_other = read_melody(mid), read_melody(other)
    assert [n.pitch for n in from_other.notes] == [n.pitch for n in from_mid.notes]
    assert from_other.duration_ticks == from_mid.duration_ticks
    if suffix == ".abc":
        text = other.read_text()
        assert "transformer-tiny" in text and "rng_seed" in text


def test_wav_output_is_audio_of_the_whole_melody(capsys, tmp_path, tiny_checkpoints):
    out = tmp_path / "jig.wav"
    code, _, _ = generate(capsys, str(DATA / "kesh-jig.abc"), "--model", str(tiny_checkpoints["lstm"]),
                          "--bars", "2", "--rng-seed", "1", "--continuation-only", "-o", str(out))
    assert code == 0
    with wave.open(str(out)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    seed = read_melody(DATA / "kesh-jig.abc")
    two_bars = added_ticks(seed, 2) / 12 * 60 / seed.tempo_bpm
    assert two_bars - 0.001 <= seconds < two_bars + 2.0  # plus the last note's release


@pytest.mark.parametrize("kind", KINDS)
def test_continuation_only_files_hold_no_seed_notes(capsys, tmp_path, tiny_checkpoints, kind):
    seed = read_melody(DATA / "kesh-jig.abc")
    common = [str(DATA / "kesh-jig.abc"), "--model", str(tiny_checkpoints[kind]), "--bars", "4",
              "--rng-seed", "21"]
    assert generate(capsys, *common, "-o", str(tmp_path / "full.mid"))[0] == 0
    assert generate(capsys, *common, "--continuation-only", "-o", str(tmp_path / "cont.mid"))[0] == 0
    full, cont = read_melody(tmp_path / "full.mid"), read_melody(tmp_path / "cont.mid")
    assert cont.duration_ticks == added_ticks(seed, 4)
    added = full.slice_ticks(seed.duration_ticks, full.duration_ticks)
    assert [(n.pitch, n.duration_ticks) for n in cont.notes] == [
        (n.pitch, n.duration_ticks) for n in added.notes]


def test_same_rng_seed_writes_the_same_music_and_variations_differ(capsys, tmp_path, tiny_checkpoints):
    common = [str(DATA / "kesh-jig.mid"), "--model", str(tiny_checkpoints["transformer"]),
              "--bars", "4", "--variations", "3", "--rng-seed", "77", "--temperature", "1.2"]
    assert generate(capsys, *common, "-o", str(tmp_path / "a.mid"))[0] == 0
    assert generate(capsys, *common, "-o", str(tmp_path / "b.mid"))[0] == 0
    first = [read_melody(tmp_path / f"a-{i}.mid").notes for i in (1, 2, 3)]
    second = [read_melody(tmp_path / f"b-{i}.mid").notes for i in (1, 2, 3)]
    assert first == second
    assert len(set(first)) == 3


def test_pitch_range_and_free_meter_options(capsys, tmp_path, tiny_checkpoints):
    out = tmp_path / "r.mid"
    code, _, _ = generate(capsys, str(DATA / "kesh-jig.abc"), "--model", str(tiny_checkpoints["lstm"]),
                          "--bars", "4", "--pitch-range", "60-72", "--no-meter", "--rng-seed", "3",
                          "--continuation-only", "-o", str(out))
    assert code == 0
    assert all(60 <= n.pitch <= 72 for n in read_melody(out).pitched_notes)
    assert dict(read_melody(out).metadata)["meter_constraint"] == "False"


# ------------------------------------------------------------------------------------ failures


def test_missing_and_corrupt_seeds_fail_in_one_line(capsys, tmp_path, tiny_checkpoints):
    out = tmp_path / "out.mid"
    model = str(tiny_checkpoints["lstm"])
    code, _, err = generate(capsys, str(tmp_path / "absent.abc"), "--model", model, "-o", str(out))
    assert_one_line_error(code, err, "absent.abc")
    corrupt = tmp_path / "corrupt.mid"
    corrupt.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01")
    code, _, err = generate(capsys, str(corrupt), "--model", model, "-o", str(out))
    assert_one_line_error(code, err, "corrupt.mid")
    assert list(tmp_path.iterdir()) == [corrupt]


def test_bad_checkpoints_fail_in_one_line(capsys, tmp_path):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a checkpoint")
    (tmp_path / "garbage.json").write_text("{ not json")
    code, _, err = generate(capsys, str(DATA / "kesh-jig.abc"), "--model", str(garbage),
                            "-o", str(tmp_path / "out.mid"))
    assert_one_line_error(code, err, "garbage")
    code, _, err = generate(capsys, str(DATA / "kesh-jig.abc"), "--model", str(tmp_path / "none"),
                            "-o", str(tmp_path / "out.mid"))
    assert code == 1 and "Traceback" not in err
    assert not (tmp_path / "out.mid").exists()


@pytest.mark.parametrize("output, words", [("missing-folder/out.mid", "does not exist"),
                                           ("out.txt", "unknown file type")])
def test_unwritable_outputs_fail_before_any_work(capsys, tmp_path, tiny_checkpoints, output, words):
    code, _, err = generate(capsys, str(DATA / "kesh-jig.abc"), "--model",
                            str(tiny_checkpoints["lstm"]), "-o", str(tmp_path / output))
    assert_one_line_error(code, err, words)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", [["--pitch-range", "72-60"], ["--pitch-range", "low"],
                                    ["--bars", "x"]])
def test_bad_usage_exits_2(capsys, tmp_path, option):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", str(DATA / "kesh-jig.abc"), *option, "-o", str(tmp_path / "o.mid")])
    assert exit_info.value.code == 2


def test_out_of_range_values_fail_in_one_line(capsys, tmp_path, tiny_checkpoints):
    code, _, err = generate(capsys, str(DATA / "kesh-jig.abc"), "--model", str(tiny_checkpoints["lstm"]),
                            "--temperature", "-1", "-o", str(tmp_path / "o.mid"))
    assert_one_line_error(code, err, "--temperature", status=2)  # a bad value is bad usage


def test_the_installed_command_runs_in_a_real_process(tmp_path, tiny_checkpoints):
    out = tmp_path / "k.abc"
    done = subprocess.run(
        [sys.executable, "-m", "musicgen.cli", "generate", str(DATA / "kesh-jig.abc"), "--model",
         str(tiny_checkpoints["transformer"]), "--variations", "4", "--bars", "8", "--key-lock",
         "--rng-seed", "2", "-o", str(out)],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert [p.name for p in sorted(tmp_path.iterdir())] == [f"k-{i}.abc" for i in (1, 2, 3, 4)]
    assert "RNG seed: 2" in done.stdout


def test_seed_bars_continues_only_the_opening(capsys, tmp_path, tiny_checkpoints):
    seed = read_melody(DATA / "kesh-jig.abc").first_bars(4)
    out = tmp_path / "opening.mid"
    code, _, _ = generate(capsys, str(DATA / "kesh-jig.abc"), "--seed-bars", "4", "--bars", "2",
                          "--model", str(tiny_checkpoints["lstm"]), "--rng-seed", "3", "-o", str(out))
    assert code == 0
    written = read_melody(out)
    assert written.slice_ticks(0, seed.duration_ticks).notes == seed.notes
    assert written.duration_ticks == seed.duration_ticks + added_ticks(seed, 2)
    code, _, err = generate(capsys, str(DATA / "kesh-jig.abc"), "--seed-bars", "0", "-o", str(out))
    assert_one_line_error(code, err, "--seed-bars", status=2)  # bad usage
