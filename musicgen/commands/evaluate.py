"""`musicgen evaluate`: a checkpoint's bits per note beside the baselines, and its music and form."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

__all__ = ["add_arguments", "run", "format_report", "compare_reports", "format_comparison"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", metavar="CKPT",
                        help="lstm, transformer, a model's name, or a checkpoint "
                             "(.safetensors, .json or stem)")
    parser.add_argument("--compare", metavar="CKPT",
                        help="also score this model on the very same tunes and print both figures "
                             "with the difference (a fine-tune beside the model it started from)")
    parser.add_argument("--corpus", default="folk", help="'folk' (default) or a folder of your tunes")
    parser.add_argument("--split", choices=("test", "val", "all"), default="test",
                        help="held-out tunes (default test); 'all' scores every tune of the corpus")
    parser.add_argument("--zero-shot", action="store_true",
                        help="score a folder against the folk corpus's n-gram and training tunes, "
                             "not ones fitted on that folder")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--samples", type=int, default=100,
                        help="held-out seeds to continue for the music and form statistics (default 100)")
    parser.add_argument("--whole-tunes", type=int, default=64,
                        help="whole tunes sampled from a header alone for the form statistics (default 64)")
    parser.add_argument("--aabb-tunes", type=int, default=64,
                        help="whole tunes sampled from a header in AABB form (default 64)")
    parser.add_argument("--ngram-max-order", type=int, default=16,
                        help="highest n-gram order tried on the validation split (default 16)")
    parser.add_argument("--no-music", action="store_true", help="skip sampling (bits per note only)")
    parser.add_argument("--no-written", action="store_true",
                        help="skip bits per written note (the first run re-reads the sources: "
                             "about a minute for the folk test split)")


def _check(args: argparse.Namespace) -> None:
    from musicgen.errors import UsageError

    if args.ngram_max_order < 2:
        raise UsageError(f"--ngram-max-order must be 2 or more, got {args.ngram_max_order}")
    if args.samples < 0:
        raise UsageError(f"--samples must be 0 or more, got {args.samples}")
    if args.whole_tunes < 0:
        raise UsageError(f"--whole-tunes must be 0 or more, got {args.whole_tunes}")
    if args.aabb_tunes < 0:
        raise UsageError(f"--aabb-tunes must be 0 or more, got {args.aabb_tunes}")
    if args.zero_shot and args.corpus == "folk":
        raise UsageError("--zero-shot scores a folder against the folk corpus; give --corpus DIR too")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from musicgen.checkpoint import read_checkpoint_metadata
    from musicgen.corpus import load_corpus
    from musicgen.evaluate import FormEvalConfig, evaluate_checkpoint
    from musicgen.evaluate.written import source_paths
    from musicgen.library import resolve_checkpoint

    _check(args)
    checkpoint = resolve_checkpoint(args.checkpoint)
    read_checkpoint_metadata(checkpoint)  # a bad checkpoint fails before the corpus loads
    other = resolve_checkpoint(args.compare) if args.compare else None
    if other is not None:
        read_checkpoint_metadata(other)
    bar = tqdm(total=0, desc="evaluating", disable=args.json or not sys.stderr.isatty(), leave=False)

    def progress(done: float, total: float, message: str = "") -> None:
        bar.total, bar.n = total, done
        bar.set_description(message or "evaluating", refresh=True)

    try:
        corpus = load_corpus(args.corpus, on_progress=progress)
        split = args.split
        held = _fine_tune_hold_out(corpus, [checkpoint] if other is None else [checkpoint, other])
        if held is not None and other is not None and split == "test":
            corpus, split = held, "val"  # the tunes the fine-tune never trained on
        reference = load_corpus("folk", on_progress=progress) if args.zero_shot else corpus
        music = not args.no_music
        form = FormEvalConfig(whole_tunes=args.whole_tunes, aabb_tunes=args.aabb_tunes,
                              continuations=args.samples) if music else None
        reports = [
            evaluate_checkpoint(
                path, corpus, split, samples=args.samples, music=music, form=form,
                reference=reference, sources=None if args.no_written else source_paths(args.corpus),
                ngram_orders=tuple(range(2, args.ngram_max_order + 1)), on_progress=progress)
            for path in ([checkpoint] if other is None else [checkpoint, other])
        ]
    finally:
        bar.close()
    if other is None:
        print(json.dumps(reports[0], indent=None) if args.json else format_report(reports[0]))
        return 0
    training = [_training_corpus(path).get("name") for path in (checkpoint, other)]
    comparison = compare_reports(reports[0], reports[1], training)
    if split != args.split:
        comparison["split"] = "held-out"
        comparison["trained_on_another_corpus"] = []  # a hold-out of this corpus: never trained on
    if args.json:
        print(json.dumps({"reports": reports, "comparison": comparison}))
    else:
        print("\n\n".join([format_report(reports[0]), format_report(reports[1]),
                            format_comparison(comparison)]))
    return 0


def _fine_tune_hold_out(corpus: Any, checkpoints: Sequence[Any]) -> Any:
    """When a model was fine-tuned on this corpus with a hold-out (its training corpus has this
    corpus's name and a fingerprint ending ":holdout-<fraction>"), the corpus with that hold-out
    as its validation split: the tunes to compare a fine-tune and its base on. Else None. The
    hold-out is chosen by the tunes' content, so it is found again after the corpus was prepared
    anew (another parser version)."""
    from musicgen.train.guard import hold_out

    for path in checkpoints:
        trained = _training_corpus(path)
        fingerprint = str(trained.get("fingerprint") or "")
        if trained.get("name") == corpus.name and ":holdout-" in fingerprint:
            try:
                return hold_out(corpus, float(fingerprint.rsplit(":holdout-", 1)[1]))
            except ValueError:
                return None
    return None


def _training_corpus(path: Any) -> dict:
    """The checkpoint's record of the corpus it trained on: name, fingerprint ({} if none)."""
    from musicgen.checkpoint import read_checkpoint_metadata

    corpus = read_checkpoint_metadata(path).get("corpus") or {}
    return corpus if isinstance(corpus, dict) else {}


def _bits(row: Any) -> float | None:
    value = row.get("bits_per_note") if isinstance(row, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def compare_reports(first: dict, second: dict, training: Sequence[str | None] = (None, None)) -> dict:
    """Both models' bits per note on the same tunes, row by row, and the difference (second minus
    first; negative: the second predicts these tunes better). `training`: the name of each
    model's training corpus, to say when these tunes may not be held out for it (another corpus:
    its splits are not this one's)."""
    from pathlib import Path

    if (first["corpus_fingerprint"], first["split"]) != (second["corpus_fingerprint"], second["split"]):
        raise ValueError("the two reports were measured on different tunes")
    rows = [("all notes", first, second),
            ("fresh notes", {"bits_per_note": first["fresh"].get("fresh_bits_per_note")},
             {"bits_per_note": second["fresh"].get("fresh_bits_per_note")}),
            ("clean set", first.get("clean") or {}, second.get("clean") or {})]
    if first.get("written") and second.get("written"):
        rows.append(("as written", first["written"], second["written"]))
    rows += [(name, row, second["per_collection"].get(name, {}))
             for name, row in sorted(first["per_collection"].items())]
    out_rows = []
    for label, a_row, b_row in rows:
        a, b = _bits(a_row), _bits(b_row)
        diff = None if a is None or b is None else b - a
        out_rows.append({"tunes": a_row.get("tunes", first["tunes"] if label != "clean set" else None),
                         "label": label, "first": a, "second": b, "difference": diff,
                         "relative": None if diff is None or not a else diff / a})
    names = [Path(r["checkpoint"]).name.removesuffix(".safetensors") for r in (first, second)]
    not_held_out = [name for name, corpus in zip(names, training)
                    if corpus is not None and corpus != first["corpus"]]
    return {"models": names, "corpus": first["corpus"], "split": first["split"],
            "tunes": first["tunes"], "notes": first["notes"], "rows": out_rows,
            "trained_on_another_corpus": not_held_out}


def format_comparison(comparison: dict) -> str:
    """The comparison as a table: both figures and the difference, per row."""
    a, b = comparison["models"]
    width = max(12, len(a), len(b)) + 2
    lines = [f"comparison on the same {comparison['tunes']:,} {comparison['split']} tunes "
             f"({comparison['notes']:,} notes) of {comparison['corpus']}: bits per note, lower is "
             f"better; the difference is {b} minus {a}",
             f"{'':<22}{a:>{width}}{b:>{width}}{'difference':>22}"]
    for row in comparison["rows"]:
        diff = row["difference"]
        change = "-" if diff is None else f"{diff:+.3f}" + (
            f" ({100 * row['relative']:+.1f}%)" if row["relative"] is not None else "")
        lines.append(f"{row['label']:<22}{_num(row['first']):>{width}}{_num(row['second']):>{width}}"
                     f"{change:>22}")
    for name in comparison["trained_on_another_corpus"]:
        lines.append(f"note: {name} was trained on another corpus, so some of these "
                     f"{comparison['split']} tunes may have been among its training tunes")
    return "\n".join(lines)


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def format_report(report: dict) -> str:
    """The human-readable tables of an `evaluate_checkpoint` report."""
    lines = _bits_lines(report)
    music = report.get("music")
    if music:
        lines += _music_lines(music)
    form = report.get("form")
    if form:
        lines += _form_lines(form)
    return "\n".join(lines)


def _bits_row(name: str, row: dict) -> str:
    return (f"{name:<22}{row.get('tunes', 0):>7}{row.get('notes', 0):>9}{_num(row.get('bits_per_note')):>9}"
            f"{_num(row.get('ngram_bits_per_note')):>9}{_num(row.get('ngram_memory_bits_per_note')):>9}"
            f"{_num(row.get('fresh_bits_per_note')):>9}{_num(row.get('ngram_memory_fresh_bits_per_note')):>9}"
            f"{_pct(row.get('restated_share')):>9}")


def _bits_lines(report: dict) -> list[str]:
    reference = report.get("reference_corpus")
    zero_shot = reference and reference != report["corpus"]
    lines = [
        f"{report['checkpoint']} ({report.get('model')}) on {report['corpus']} {report['split']} split"
        + (f", zero-shot against {reference}" if zero_shot else ""),
        "bits per note (lower is better): model, n-gram, n-gram with memory; then on fresh notes",
        (f"{'':<22}{'tunes':>7}{'notes':>9}{'model':>9}{'n-gram':>9}{'+memory':>9}"
         f"{'fresh':>9}{'+mem fr':>9}{'restated':>9}"),
        _bits_row("all", {**report, **report.get("fresh", {})}),
    ]
    lines += [_bits_row(name, row) for name, row in sorted(report["per_collection"].items())]
    clean = report.get("clean") or {}
    lines.append(_bits_row("clean set", clean))
    written = report.get("written")
    if written:
        lines.append(_bits_row("as written", written))
        lines.append(f"  (the same tunes as played: model {_num(written.get('played_bits_per_note'))}, "
                     f"{written.get('played_notes', 0)} notes; "
                     f"{written.get('unreadable', 0)} not readable as written)")
    memory = report.get("ngram_memory") or {}
    lines.append(
        f"token accuracy {_num(report['token_accuracy'])}; n-gram order {report['ngram_order']}; "
        f"memory orders {memory.get('min_order', '-')}..{memory.get('max_order', '-')}, "
        f"escape {memory.get('escape', '-')} "
        "(all chosen on the validation split)")
    lines.append(f"clean set: {clean.get('tunes', 0)} tunes with no family member in training "
                 f"({clean.get('tunes_with_family_in_training', 0)} left out)")
    return lines


def _music_lines(music: dict) -> list[str]:
    ref, overlap = music["reference"], music["overlap"]
    copies = music.get("copies", {})
    rows = [
        ("bars of exact length", music["bar_exact_share"], ref["bar_exact_share"]),
        ("notes in the key's scale", music["in_scale_share"], ref["in_scale_share"]),
        ("copies >= 4 training bars", music["copy_4bars_share"], ref["copy_4bars_share"]),
    ]
    if copies:
        rows.append(("variant copies (any view)", copies["samples"]["any"], copies["real"]["any"]))
    lines = [(f"music: {music['samples']} held-out seeds continued at temperature "
              f"{music['settings']['temperature']}"), f"  {'':<28}{'sampled':>9}{'real':>9}"]
    lines += [f"  {label:<28}{_num(a):>9}{_num(b):>9}" for label, a, b in rows]
    lines.append("  overlapped area with the real continuations: "
                 + ", ".join(f"{k} {_num(v)}" for k, v in overlap.items()))
    return lines


_FORM_ROWS = (("ends on the tonic", "ends_on_tonic"), ("ends on a strong beat", "ends_on_strong_beat"),
              ("ends at a phrase boundary", "ends_at_phrase_boundary"), ("mean length, bars", "mean_bars"),
              ("length a multiple of 8 bars", "bars_multiple_of_8"), ("restated notes", "restated_share"),
              ("AABB", "aabb"), ("parts close on I or V", "parts_end_on_tonic_or_dominant"))


def _form_lines(form: dict) -> list[str]:
    columns = [("real tunes", form.get("real"))]
    if form.get("whole_tunes"):
        columns.append(("whole", form["whole_tunes"]))
    if form.get("aabb_tunes"):
        columns.append(("AABB opt.", form["aabb_tunes"]))
    cont = form.get("continuations") or {}
    for label, key in (("real, cut", "real_at_boundary"), ("cad. off", "cadence_off"),
                       ("cad. on", "cadence_on")):
        if cont.get(key):
            columns.append((label, cont[key]))
    lines = ["form: whole tunes sampled from a header alone; seeds continued to a phrase boundary",
             f"  {'':<30}" + "".join(f"{label:>11}" for label, _ in columns)]
    for label, key in _FORM_ROWS:
        cells = [(col or {}).get(key) for _, col in columns]
        fmt = (lambda v: _num(v, 1)) if key == "mean_bars" else _pct
        lines.append(f"  {label:<30}" + "".join(f"{fmt(v):>11}" for v in cells))
    copies = form.get("copies", {})
    for label, key in (("real tunes scored", "real_tunes"), ("whole tunes", "whole_tunes"),
                       ("AABB tunes", "aabb_tunes")):
        if copies.get(key):
            c = copies[key]
            lines.append(f"  copies of training tunes, {label}: rhythm run {_pct(c['rhythm_run'])}, "
                         f"contour run {_pct(c['contour_run'])}, family {_pct(c['family'])}, "
                         f"any {_pct(c['any'])}")
    return lines
