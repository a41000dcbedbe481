"""The model card of a model trained on a user's tunes: ``<name>.md`` beside the checkpoint.

`write_card(tensors_path, summary)` stores the fine-tune's summary (`finetune.py`) in the
checkpoint's JSON under ``"finetune"`` (so the app's model panel reads it without torch) and
writes the card: base model, the corpus report (tunes found, kept, skipped with the reason for
each), the budget and hardware, held-out bits per note before and after, and the copy figures.
`render_card(name, document)` renders it again, e.g. after a rename. Torch-free.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["render_card", "write_card", "update_document"]

_STOPS = {"minutes": "the time budget was spent", "epochs": "all passes were made",
          "early-stopping": "the held-out figure stopped improving", "stopped": "stopped by you"}


def update_document(tensors_path: Path, **sections: Any) -> dict[str, Any]:
    """Put `sections` into the checkpoint's JSON (written atomically); the updated document."""
    from musicgen.checkpoint import checkpoint_paths, read_checkpoint_metadata
    from musicgen.io.atomic import atomic_write_text

    document = read_checkpoint_metadata(tensors_path)
    document.update(sections)
    _, json_path = checkpoint_paths(tensors_path)
    atomic_write_text(json_path, json.dumps(document, indent=1))
    return document


def write_card(tensors_path: Path, summary: dict[str, Any]) -> Path:
    """Save `summary` in the checkpoint's JSON and write its Markdown card; the card's path."""
    from musicgen.io.atomic import atomic_write_text

    document = update_document(tensors_path, finetune=summary)
    name = tensors_path.name[: -len(".safetensors")]
    card = tensors_path.with_name(f"{name}.md")
    atomic_write_text(card, render_card(name, document))
    return card


def _bits(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "not measured"


def _share(value: Any, samples: Any = None) -> str:
    if not isinstance(value, (int, float)) or value != value:  # None or NaN
        return "not measured"
    of = f" ({round(value * samples)} of {samples} samples)" if isinstance(samples, int) else ""
    return f"{value:.0%}{of}"


def render_card(name: str, document: dict[str, Any]) -> str:
    """The Markdown card of a checkpoint whose JSON holds a ``finetune`` summary."""
    s = document.get("finetune") or {}
    model = document.get("model", {})
    plan = s.get("plan", {})
    base = s.get("base")
    kind = {"lstm": "LSTM", "transformer": "Transformer"}.get(model.get("kind"), model.get("kind"))
    what = f"fine-tuned from {base}" if base else f"a new {kind} ({plan.get('preset')} size)"
    lines = [f"# {name}: {kind} {what} on your tunes", ""]
    lines += _made_section(s, {**plan, **(document.get("training") or {})}, model, base)
    lines += _figures_section(s, base)
    lines += _skipped_section(s.get("corpus", {}))
    return "\n".join(lines) + "\n"


def _made_section(s: dict, plan: dict, model: dict, base: Any) -> list[str]:
    corpus, held, train = s.get("corpus", {}), s.get("held_out", {}), s.get("training", {})
    budget = (f"{plan['minutes']:g} minutes" if plan.get("minutes") and not plan.get("epochs")
              else f"{plan.get('epochs')} passes")
    minutes = (train.get("wall_time_s") or 0) / 60
    return [
        "## How it was made", "",
        f"- Base model: {base or 'none (trained from scratch)'}; "
        f"{model.get('parameters', 0):,} parameters",
        f"- Your tunes: {corpus.get('folder')}: {corpus.get('found')} found, "
        f"{corpus.get('kept')} kept, {len(corpus.get('skipped', []))} skipped",
        f"- Held out: {held.get('tunes')} tunes ({held.get('notes')} notes), never trained on; "
        "the checkpoint kept is the one that predicts them best",
        f"- Budget: {budget}; trained {minutes:.1f} minutes, {train.get('epochs')} passes, "
        f"{train.get('steps')} steps; ended because {_STOPS.get(train.get('stop_reason'), '?')}",
        f"- Learning rate {plan.get('lr') or 'default'}, batches of at most "
        f"{plan.get('batch_size')} tunes" + (f" and {plan['batch_tokens']} tokens"
                                            if plan.get("batch_tokens") else "")
        + f", seed {plan.get('seed')}",
        f"- Hardware: {s.get('hardware')}, torch {s.get('torch_version')}", "",
    ]


def _figures_section(s: dict, base: Any) -> list[str]:
    held, copies = s.get("held_out", {}), s.get("copies", {})
    before, after = held.get("bits_per_note_before"), held.get("bits_per_note_after")
    change = (f" ({(after - before) / before:+.1%})"
              if isinstance(before, (int, float)) and isinstance(after, (int, float)) else "")
    reference = "the base model" if base else "your held-out tunes themselves"
    lines = [
        f"## Bits per note on your {held.get('tunes')} held-out tunes (lower is better)", "",
        "| model | bits per note |", "|---|---|",
    ]
    if base:
        lines.append(f"| {base} (before) | {_bits(before)} |")
    lines += [f"| this model | {_bits(after)}{change} |", "",
              "Both figures are measured on the same tunes of yours, held out of training; they "
              "do not compare with figures measured on other tunes (the shipped models' folk "
              "test split).", "",
              "## Copying your tunes", "",
              "Share of sampled continuations of your tunes' openings that repeat 4 or more bars "
              "of one of your training tunes (matched on intervals, so transposed copies count):",
              "",
              f"- {reference}: {_share(copies.get('reference_share'))}",
              f"- this model: {_share(copies.get('kept_share'), copies.get('samples'))}", ""]
    if copies.get("rose"):
        lines += ["**Warning:** during training the model began to copy your tunes more than "
                  f"{reference}; the checkpoint kept is from before that.", ""]
    return lines


def _skipped_section(corpus: dict) -> list[str]:
    skipped = corpus.get("skipped", [])
    if not skipped:
        return []
    lines = ["## Tunes that were skipped", ""]
    lines += [f"- {t['source']} {t.get('title') or ''}: {t['reason']}".replace("  ", " ")
              for t in skipped]
    return lines + [""]
