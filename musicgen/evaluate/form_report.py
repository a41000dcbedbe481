"""Form statistics and the variant copy check of a model's samples, beside the real tunes.

The figures (`form.form_statistics`, `copies.copy_figures`) of:

- the real tunes scored (the test split), and of the training tunes they may copy;
- whole tunes sampled from a header alone (`sampled.sample_whole_tunes`), and the same in AABB form
  (`sampled.sample_aabb_tunes`), with the share of parts that close on the tonic or the dominant;
- held-out seeds continued with the cadence off and on (`sampled.continue_for_form`), as whole
  melodies (seed + continuation), beside the real tunes cut at the same phrase boundary.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from musicgen.evaluate.copies import VariantIndex, copy_figures
from musicgen.evaluate.form import ends_at_phrase_boundary, form_statistics, part_endings
from musicgen.evaluate.music import MusicEvalConfig, held_out_seeds
from musicgen.evaluate.sampled import (
    FormEvalConfig,
    continue_for_form,
    phrase_aligned_bars,
    sample_aabb_tunes,
    sample_whole_tunes,
    whole_tune_headers,
)
from musicgen.melody import Melody
from musicgen.progress import ProgressFn

__all__ = ["aabb_figures", "continuation_figures", "form_report"]


def continuation_figures(melodies: Sequence[Melody], phrase_bars: int) -> dict:
    """Form statistics of continued melodies, and the share ending on a phrase boundary."""
    stats = form_statistics(melodies)
    shares = [ends_at_phrase_boundary(m, phrase_bars) for m in melodies if m.note_count]
    stats["ends_at_phrase_boundary"] = sum(shares) / len(shares) if shares else float("nan")
    return stats


def aabb_figures(melodies: Sequence[Melody]) -> dict:
    """Form statistics of AABB tunes, and the share of their parts closing on the tonic or dominant."""
    stats = form_statistics(melodies)
    endings = [pc for m in melodies for pc in part_endings(m)]
    stats["parts_end_on_tonic_or_dominant"] = (
        sum(pc in (0, 7) for pc in endings) / len(endings) if endings else float("nan"))
    return stats


def _real_at_boundary(
    melodies: Sequence[Melody], seeds: Sequence[Melody], config: FormEvalConfig
) -> list[Melody]:
    """Each real tune cut where its seed's continuation must end (tunes too short are left out)."""
    out = []
    for melody, seed in zip(melodies, seeds):
        end = seed.duration_ticks + phrase_aligned_bars(seed, config.continuation_bars,
                                                        config.phrase_bars) * melody.meter.bar_ticks
        if melody.duration_ticks >= end:
            out.append(melody.slice_ticks(0, end))
    return out


def form_report(
    generator: Any,
    real: Sequence[Melody],
    index: VariantIndex,
    config: FormEvalConfig,
    *,
    continue_fn: Callable[..., list[Melody]] | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """The form and copy figures of whole tunes and continuations, beside the real tunes."""
    progress = {"on_progress": on_progress, "should_stop": should_stop}
    out: dict[str, Any] = {
        "settings": {**config.__dict__, "grammar": True, "meter_constraint": True},
        "real": form_statistics(real),
        "copies": {"real_tunes": copy_figures(real, index).to_dict()},
    }
    if config.whole_tunes > 0:
        headers = whole_tune_headers(real, config.whole_tunes)
        whole = sample_whole_tunes(generator.model, headers, config, **progress)
        out["whole_tunes"] = form_statistics(whole)
        out["copies"]["whole_tunes"] = copy_figures(whole, index).to_dict()
    if config.aabb_tunes > 0:
        headers = whole_tune_headers(real, config.aabb_tunes)
        aabb = sample_aabb_tunes(generator, headers, config, continue_fn=continue_fn, **progress)
        out["aabb_tunes"] = aabb_figures(aabb)
        out["copies"]["aabb_tunes"] = copy_figures(aabb, index).to_dict()
    if config.continuations > 0:
        chosen = held_out_seeds(real, MusicEvalConfig(samples=config.continuations, seed_bars=4,
                                                      continuation_bars=config.continuation_bars))
        seeds = [s.seed for s in chosen]
        tunes = [item.tune or item.seed.concatenated(item.real) for item in chosen]
        out["continuations"] = {
            "seeds": len(seeds),
            "real_at_boundary": continuation_figures(_real_at_boundary(tunes, seeds, config),
                                                     config.phrase_bars),
        }
        for label, cadence in (("cadence_off", False), ("cadence_on", True)):
            melodies = continue_for_form(generator, seeds, config, cadence=cadence, continue_fn=continue_fn,
                                         **progress)
            out["continuations"][label] = continuation_figures(melodies, config.phrase_bars)
    return out

