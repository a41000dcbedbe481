"""Write a shipped checkpoint's model card from `musicgen evaluate --json` reports.

    .venv/bin/python scripts/model_card.py checkpoints/transformer-folk \
        --test eval-test.json --val eval-val.json [--note "how it was copied"]

Puts the measured figures into the checkpoint's JSON (`metrics`) and writes `<stem>.md` beside it.
The figures come only from the project's own `evaluate` on held-out tunes. A corpus without O'Neill's
or Ryan's tunes (a custom one) gets null for their combined figure and no row or target for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musicgen.io.atomic import atomic_write_text

FIDDLE = ("oneills1850", "ryansMammoth")
TARGETS = {"lstm": 2.8, "transformer": 2.6}
MUSIC_TARGETS = "bars exact >= 98%, notes in scale >= 95%, each overlapped area >= 0.8, 4-bar copies <= 2%"


def combined(per_collection: dict, names: tuple[str, ...], field: str) -> float | None:
    """Bits per note over the named collections together (None when they hold no notes)."""
    notes = sum(per_collection[n]["notes"] for n in names if n in per_collection)
    bits = sum(per_collection[n][field] * per_collection[n]["notes"] for n in names if n in per_collection)
    return bits / notes if notes else None


def update_metrics(meta: dict, test: dict, val: dict) -> dict:
    metrics = dict(meta["metrics"])
    metrics.setdefault("training_val_bits_per_note", metrics.get("val_bits_per_note"))
    metrics.update({
        "test_bits_per_note": test["bits_per_note"],
        "val_bits_per_note": val["bits_per_note"],
        "ngram_test_bits_per_note": test["ngram_bits_per_note"],
        "ngram_val_bits_per_note": val["ngram_bits_per_note"],
        "ngram_order": test["ngram_order"],
        "test_token_accuracy": test["token_accuracy"],
        "test_per_collection": test["per_collection"],
        "val_per_collection": val["per_collection"],
        "test_oneills_ryans_bits_per_note": combined(test["per_collection"], FIDDLE, "bits_per_note"),
        "ngram_test_oneills_ryans_bits_per_note": combined(
            test["per_collection"], FIDDLE, "ngram_bits_per_note"),
        "music": test.get("music"),
    })
    return metrics


def card(stem: Path, meta: dict, m: dict, note: str) -> str:
    kind = meta["model"]["kind"]
    display = "LSTM" if kind == "lstm" else "Transformer"
    size_mb = (stem.with_suffix(".safetensors")).stat().st_size / 2**20
    ratio = 1 - m["test_bits_per_note"] / m["ngram_test_bits_per_note"]
    fiddle = m["test_oneills_ryans_bits_per_note"]
    lines = [
        f"# {stem.name}: the shipped {display} model",
        "",
        (f"{'An' if kind == 'lstm' else 'A'} {display} next-token model over musicgen's vocabulary (version {meta['vocabulary']['version']}),"
        " trained by `musicgen train` on the prepared folk corpus. Figures below are measured by"
        " `musicgen evaluate` on held-out tunes the model never trained on."),
        "",
        "## How it was made",
        "",
        f"- Command: `{meta['command']}`",
        f"- {note}" if note else "",
        f"- Corpus: {meta['corpus']['name']}, fingerprint `{meta['corpus']['fingerprint']}`, tunes "
        + ", ".join(f"{k} {v}" for k, v in meta["corpus"]["tunes"].items()),
        (f"- Model: `{json.dumps(meta['model']['config'])}`, {meta['model']['parameters']:,} parameters,"
        f" {size_mb:.1f} MB"),
        f"- Training: `{json.dumps({k: v for k, v in meta['training'].items() if v is not None})}`",
        f"- Steps {m.get('steps')}, epochs {m.get('epochs')}, wall time {meta['wall_time_s'] / 60:.1f} min"
        f" on {meta['hardware']} (torch {meta['torch_version']})"
        + ("" if "NVIDIA" in meta["hardware"] or "GPU" in meta["hardware"] else ", no GPU"),
        "",
        "## Bits per note (lower is better)",
        "",
        "| split | model | Kneser-Ney n-gram | model vs n-gram |",
        "|---|---|---|---|",
        f"| test | {m['test_bits_per_note']:.3f} | {m['ngram_test_bits_per_note']:.3f} | {-100 * ratio:+.1f}% |",
        (f"| val | {m['val_bits_per_note']:.3f} | {m['ngram_val_bits_per_note']:.3f} |"
        f" {100 * (m['val_bits_per_note'] / m['ngram_val_bits_per_note'] - 1):+.1f}% |"),
        None if fiddle is None else (  # no O'Neill's or Ryan's tunes in this corpus: no row
            f"| test, O'Neill's + Ryan's | {fiddle:.3f} | {m['ngram_test_oneills_ryans_bits_per_note']:.3f} |"
            f" {100 * (fiddle / m['ngram_test_oneills_ryans_bits_per_note'] - 1):+.1f}% |"),
        "",
        (f"The n-gram is interpolated Kneser-Ney of order {m['ngram_order']} (chosen on validation) over"
        " the same tokens and training split. Test token accuracy: "
        f"{100 * m['test_token_accuracy']:.1f}%."),
        "",
        "Per collection (test split):",
        "",
        "| collection | tunes | notes | model | n-gram |",
        "|---|---|---|---|---|",
    ]
    for name, f in sorted(m["test_per_collection"].items()):
        lines.append(f"| {name} | {f['tunes']} | {f['notes']} | {f['bits_per_note']:.3f} |"
                     f" {f['ngram_bits_per_note']:.3f} |")
    lines += ["", "Per collection (validation split):", "",
              "| collection | tunes | notes | model | n-gram |", "|---|---|---|---|---|"]
    for name, f in sorted(m["val_per_collection"].items()):
        lines.append(f"| {name} (val) | {f['tunes']} | {f['notes']} | {f['bits_per_note']:.3f} |"
                     f" {f['ngram_bits_per_note']:.3f} |")
    lines += ["", "## Targets (issue 6)", ""]
    target = TARGETS[kind]
    if fiddle is not None:
        lines.append(f"- O'Neill's + Ryan's test <= {target}: {fiddle:.3f} "
                     f"({'met' if fiddle <= target else f'missed by {fiddle - target:.3f}'})")
    lines.append(f"- whole test split at least 20% below the n-gram: {100 * ratio:.1f}% below "
                 f"({'met' if ratio >= 0.2 else 'missed'})")
    lines += ["", "## Musical statistics", ""]
    lines += music_lines(m.get("music"))
    return "\n".join(line for line in lines if line is not None) + "\n"


def music_lines(music: dict | None) -> list[str]:
    if not music:
        return ["Not measured."]
    ref = music.get("reference", {})
    ov, rov = music.get("overlap", {}), ref.get("overlap", {})
    rows = [
        ("bars of exactly the meter's length", music.get("bar_exact_share"), ref.get("bar_exact_share"), "%"),
        ("notes in the key's scale", music.get("in_scale_share"), ref.get("in_scale_share"), "%"),
        ("overlap: pitch class", ov.get("pitch_class"), rov.get("pitch_class"), ""),
        ("overlap: note length", ov.get("note_length"), rov.get("note_length"), ""),
        ("overlap: interval", ov.get("interval"), rov.get("interval"), ""),
        ("overlap: pitch range", ov.get("pitch_range"), rov.get("pitch_range"), ""),
        ("samples copying >= 4 bars of a training tune", music.get("copy_4bars_share"),
         ref.get("copy_4bars_share"), "%"),
    ]
    out = [f"Sampled continuations of {music.get('samples')} held-out seeds at temperature 1.0,"
           " constraints off (grammar on), against the real continuations. Targets: " + MUSIC_TARGETS + ".",
           "", "| statistic | model | real continuations |", "|---|---|---|"]
    for label, value, reference, unit in rows:
        out.append(f"| {label} | {fmt(value, unit)} | {fmt(reference, unit)} |")
    return out


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}%" if unit == "%" else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stem", type=Path, help="checkpoint path without suffix")
    parser.add_argument("--test", type=Path, required=True, help="evaluate --json on the test split")
    parser.add_argument("--val", type=Path, required=True, help="evaluate --json --no-music on val")
    parser.add_argument("--note", default="", help="one line on how the files came to checkpoints/")
    parser.add_argument("--selection", type=Path,
                        help="a Markdown file on how the settings were chosen (validation only)")
    parser.add_argument("--limits", type=Path, help="a Markdown file of known limits to append")
    args = parser.parse_args()
    json_path = args.stem.with_suffix(".json")
    meta = json.loads(json_path.read_text(encoding="utf-8"))
    meta["metrics"] = update_metrics(meta, json.loads(args.test.read_text()), json.loads(args.val.read_text()))
    atomic_write_text(json_path, json.dumps(meta, indent=2) + "\n")
    text = card(args.stem, meta, meta["metrics"], args.note)
    if args.selection:
        text += ("\n## How the settings were chosen (validation split only)\n\n"
                 + args.selection.read_text(encoding="utf-8"))
    if args.limits:
        text += "\n## Known limits\n\n" + args.limits.read_text(encoding="utf-8")
    atomic_write_text(args.stem.with_suffix(".md"), text)


if __name__ == "__main__":
    main()
