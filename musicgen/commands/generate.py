"""`musicgen generate`: continue a seed melody file with a model and write each variation to a file.

Reads any seed the readers read (MIDI, ABC, MusicXML), writes `.mid`, `.abc`, `.musicxml` or `.wav`
by the output's suffix (several variations become ``name-1.mid``, ``name-2.mid``, ...), prints a
summary and stores the same provenance in each file's metadata. Everything is checked before the
first file is written, and each file is written atomically, so a failure leaves no partial file.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from musicgen.errors import SettingsError, UsageError, WriteError
from musicgen.generation import GenerationConfig
from musicgen.melody import Key, Melody

__all__ = ["add_arguments", "run", "output_paths", "parse_pitch_range"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("seed", nargs="?",
                        help="the melody to continue (.mid, .abc, .musicxml, ...); leave it out and "
                             "give --meter and --key to start a tune from nothing")
    parser.add_argument("--tune", type=int, help="which tune of an ABC book (1-based)")
    parser.add_argument("--track", type=int, help="which track of a MIDI file (1-based)")
    parser.add_argument("--seed-bars", type=int, metavar="N",
                        help="continue only the seed's first N bars (a pickup counts as one)")
    parser.add_argument("--model", default="lstm",
                        help="lstm (default: generates about three times faster), transformer "
                             "(the better shipped model: fewer bits per note), a model's name, or a "
                             "checkpoint path")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="0 is greedy; higher is more adventurous (default 1.0)")
    parser.add_argument("--top-k", type=int, default=0, help="sample among the K likeliest tokens")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling threshold")
    parser.add_argument("--bars", type=int, default=8, help="bars to add (default 8)")
    parser.add_argument("--variations", type=int, default=1, help="continuations to write")
    parser.add_argument("--rng-seed", type=int,
                        help="random seed, to reproduce a result; variation K of a set draws from "
                             "this seed plus K-1, so that seed alone gives the same variation")
    parser.add_argument("--variation", type=int, metavar="K",
                        help="with --rng-seed: write only variation K of the set that seed makes "
                             "(the same notes as file K of --variations)")
    parser.add_argument("--key-lock", action="store_true", help="only notes of the seed's scale")
    parser.add_argument("--no-meter", action="store_true",
                        help="let bars run free instead of filling each bar exactly")
    parser.add_argument("--pitch-range", type=parse_pitch_range, metavar="LO-HI",
                        help="lowest and highest MIDI pitch, e.g. 55-88")
    tune = parser.add_argument_group("tunes, not fragments")
    tune.add_argument("--cadence", action="store_true",
                      help="end where a musician would: at the end of a phrase, last bar complete, "
                           "the final note on the tonic (or --final-degree) on a strong beat")
    tune.add_argument("--phrase-bars", type=int, default=8, metavar="N",
                      help="phrase length for --cadence (default 8; 4 for short phrases); the "
                           "continuation ends on the first phrase boundary at or after --bars")
    tune.add_argument("--final-degree", type=int, default=1, metavar="D",
                      help="scale degree of the final note with --cadence, 1-7 (default 1, the tonic)")
    tune.add_argument("--form", choices=("continuation", "aabb"), default="continuation",
                      help="aabb: a whole tune, an A part and a B part each played twice, each "
                           "closing on a cadence (ABC export shows the repeat signs)")
    tune.add_argument("--part-bars", type=int, default=8, metavar="N",
                      help="bars in each part of an AABB tune (default 8)")
    tune.add_argument("--endings", action="store_true",
                      help="AABB parts with first and second endings")
    tune.add_argument("--meter", help="without a seed: the tune's meter, e.g. 6/8")
    tune.add_argument("--key", help="the key, e.g. 'D major', 'A dorian', 'Em': with a seed it "
                                    "corrects the key read from the file; without, it starts the tune")
    parser.add_argument("--tempo", type=float, metavar="BPM",
                        help="tempo in beats per minute of the meter's beat (a dotted quarter in "
                             "6/8, a half note in 2/2); default: the seed's")
    parser.add_argument("--continuation-only", action="store_true",
                        help="write only the new music, without the seed")
    parser.add_argument("-o", "--output", required=True,
                        help="output file: .mid, .abc, .musicxml or .wav")


def parse_pitch_range(text: str) -> tuple[int, int]:
    """'55-88' -> (55, 88)."""
    low, sep, high = text.partition("-")
    try:
        pair = (int(low), int(high))
    except ValueError:
        pair = None
    if not sep or pair is None or not 0 <= pair[0] <= pair[1] <= 127:
        raise argparse.ArgumentTypeError(f"expected LO-HI MIDI pitches such as 55-88, got {text!r}")
    return pair


def output_paths(output: str | os.PathLike[str], count: int) -> list[Path]:
    """``out.mid`` for one variation; ``out-1.mid``, ``out-2.mid``, ... for several."""
    path = Path(output)
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{i}{path.suffix}") for i in range(1, count + 1)]


def _check_outputs(paths: list[Path]) -> None:
    """Refuse an unknown suffix or an unwritable folder before any work is done."""
    from musicgen.io import WRITABLE_SUFFIXES

    known_suffixes = sorted(set(WRITABLE_SUFFIXES) | {".wav"})
    suffix = paths[0].suffix.lower()
    if suffix == ".wav":  # only then: the synthesiser costs 40 ms of imports at every start
        import musicgen.playback  # noqa: F401  (registers the .wav writer)
    if suffix not in known_suffixes:
        known = ", ".join(known_suffixes)
        raise WriteError(f"Cannot write {paths[0]}: unknown file type {suffix or '(none)'}; use {known}.")
    folder = paths[0].parent if str(paths[0].parent) else Path(".")
    if not folder.is_dir():
        raise WriteError(f"Cannot write {paths[0]}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK):
        raise WriteError(f"Cannot write {paths[0]}: the folder {folder} is not writable.")


_OPTION_OF = {"cadence_degree": "final-degree", "meter_constraint": "no-meter"}  # setting -> option


def _generation_config(args: argparse.Namespace) -> GenerationConfig:
    """The options as the one GenerationConfig; an out-of-range value is bad usage (exit 2)."""
    variations, rng_seed = args.variations, args.rng_seed
    if args.variation is not None:
        if args.rng_seed is None:
            raise UsageError("--variation K needs the set's --rng-seed.")
        if args.variation < 1:
            raise UsageError(f"--variation must be 1 or more, not {args.variation}")
        if args.variations != 1:
            raise UsageError("--variation writes one variation of a set; leave out --variations.")
        from musicgen.continuation import variation_seed

        rng_seed = variation_seed(args.rng_seed, args.variation - 1)
    try:
        return GenerationConfig(
            temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, bars=args.bars,
            variations=variations, rng_seed=rng_seed, key_lock=args.key_lock,
            meter_constraint=not args.no_meter, pitch_range=args.pitch_range,
            cadence=args.cadence, phrase_bars=args.phrase_bars, cadence_degree=args.final_degree,
            form=args.form, part_bars=args.part_bars, endings=args.endings,
        )
    except SettingsError as exc:
        name = _OPTION_OF.get(exc.setting, exc.setting.replace("_", "-"))
        option = f"--{name}: " if exc.setting else ""
        raise UsageError(f"{option}{exc}") from exc


def run(args: argparse.Namespace) -> int:
    from musicgen.io import atomic_write_bytes
    from musicgen.io.writers import melody_to_bytes
    from musicgen.pipeline import continue_melody, load_generator

    config = _generation_config(args)
    paths = output_paths(args.output, config.variations)
    _check_outputs(paths)
    seed = _seed(args)
    if args.seed_bars is not None:
        if args.seed_bars < 1:
            raise UsageError(f"--seed-bars must be 1 or more, not {args.seed_bars}")
        seed = seed.first_bars(args.seed_bars)
    generator = load_generator(args.model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = continue_melody(seed, generator, config)
    for warning in caught:
        print(f"musicgen: warning: {warning.message}", file=sys.stderr)
    if args.variation is not None:  # variation K of the set seeded --rng-seed, made alone
        results = [m.with_metadata(variation=args.variation, set_rng_seed=args.rng_seed)
                   for m in results]
    written = []
    for melody, path in zip(results, paths):
        out = melody.with_metadata(seed=Path(args.seed).name) if args.seed else melody
        if args.continuation_only:
            out = out.continuation.replace(seed_end_ticks=None)
        written.append((path, out, melody_to_bytes(out, path)))
    for path, _, data in written:  # every file encoded before the first is written
        atomic_write_bytes(path, data)
    print(_summary(args, seed, results[0], [(path, out) for path, out, _ in written]))
    return 0


def _seed(args: argparse.Namespace) -> Melody:
    """The seed file's melody, or a header-only seed from --meter and --key."""
    from musicgen.melody import Meter

    if args.seed:
        if args.meter:
            raise UsageError("--meter starts a tune without a seed; leave it out with one.")
        return _with_tempo(_read_seed(args), args)
    if not (args.meter and args.key):
        raise UsageError("give a seed file, or --meter and --key to start a tune from nothing.")
    try:
        meter, key = Meter.parse(args.meter), _key_option(args.key)
    except ValueError as exc:
        raise UsageError(f"{exc} (--meter like 6/8, --key like 'D major' or 'A dorian')") from exc
    if args.seed_bars is not None:
        raise UsageError("--seed-bars needs a seed file.")
    if args.form != "aabb":
        raise UsageError("a tune started from nothing needs --form aabb (or give a seed file).")
    from musicgen.whole_tune import header_seed

    return _with_tempo(header_seed(meter, key, title=f"Tune in {key}"), args)


def _key_option(text: str) -> Key:
    from musicgen.io.keysig import parse_key_option

    try:
        return parse_key_option(text)
    except ValueError as exc:
        raise UsageError(f"--key: {exc} (use a key like 'D major', 'A dorian' or 'Em')") from exc


def _read_seed(args: argparse.Namespace) -> Melody:
    """The seed file's melody, told as a musician reads it: which track or part was used, what
    the reader changed (`note:` lines on stderr), stray notes folded into the models' range, and
    the key corrected by --key."""
    from musicgen.io import read_melody_with_report
    from musicgen.io.fold import fold_outliers
    from musicgen.tokens import PITCH_MAX, PITCH_MIN

    key = _key_option(args.key) if args.key else None
    melody, report = read_melody_with_report(args.seed, tune=args.tune, track=args.track,
                                             cache=True)
    if len(report.part_names) > 1:
        print(f"Using {report.source_part}", file=sys.stderr)
    for sentence in report.warnings:
        print(f"note: {sentence}", file=sys.stderr)
    melody, folded = fold_outliers(melody, PITCH_MAX - PITCH_MIN - 11)  # any tonic fits
    if folded:
        print(f"note: {folded} stray note{'s' if folded != 1 else ''} far from the rest of the "
              "tune moved by octaves into the models' range", file=sys.stderr)
    return melody.replace(key=key) if key is not None else melody


def _with_tempo(melody: Melody, args: argparse.Namespace) -> Melody:
    if args.tempo is None:
        return melody
    if not 20 <= args.tempo <= 400:
        raise UsageError(f"--tempo must be between 20 and 400 beats per minute, not {args.tempo:g}")
    from musicgen.io.tempo import beat_to_quarter_bpm

    return melody.replace(tempo_bpm=beat_to_quarter_bpm(args.tempo, melody.meter))


def _seed_line(meta: dict[str, str], count: int) -> str:
    """The set's RNG seed and, for several variations, each one's own (which remakes it alone)."""
    set_seed = int(meta.get("set_rng_seed", meta["rng_seed"]))
    if "variation" in meta and int(meta["variation"]) > 1 or count == 1:
        own = int(meta["rng_seed"])
        return f"RNG seed: {own}" + (f" (variation {meta['variation']} of the set seeded {set_seed})"
                                     if own != set_seed else "")
    from musicgen.continuation import variation_seed

    owns = ", ".join(str(variation_seed(set_seed, i)) for i in range(count))
    return f"RNG seed: {set_seed} (each variation's own: {owns}; --rng-seed S --variation K remakes one)"


def _summary(args: argparse.Namespace, seed: Melody, first: Melody, written: list[tuple[Path, Melody]]) -> str:
    meta = dict(first.metadata)
    tune = f" (tune {args.tune})" if args.tune else ""
    origin = (f"seed: {args.seed}{tune}: {seed.musician_bars} bars, {seed.note_count} notes, "
              if args.seed else "seed: none, a tune from nothing in ")
    lines = [
        f"model: {meta['model']}",
        f"{origin}{seed.key}, {seed.meter}",
        f"temperature: {meta['temperature']}  top-k: {meta['top_k']}  top-p: {meta['top_p']}  "
        f"key lock: {'on' if args.key_lock else 'off'}",
        _seed_line(meta, len(written)),
    ]
    for path, melody in written:
        if melody.form is not None:
            parts = " ".join(f"{p.name}: {p.played_ticks // 2 // melody.meter.bar_ticks} bars"
                             for p in melody.form.parts)
            lines.append(f"wrote {path}: a tune in AABB form ({parts}, each played twice; "
                         f"{melody.musician_bars} bars as played)")
            continue
        added = melody if args.continuation_only else melody.continuation
        # whole bars: a seed ending mid-bar has that bar completed first, not counted here
        bars = (added.duration_ticks - added.pickup_ticks) // added.meter.bar_ticks
        lines.append(f"wrote {path}: {bars} bars, {added.note_count} notes added"
                     + ("" if args.continuation_only else f" ({melody.musician_bars} bars in all)"))
    return "\n".join(lines)
