"""A whole tune in folk form: AABB, each part played twice and closing on a cadence.

From a seed, or from nothing but a meter and a key (a melody with no notes), for each variation:

1. the A part: the seed continued to the end of its part (the first multiple of ``part_bars`` bars
   after the seed's last bar; a seed that fills whole parts exactly is the A part as it is), its
   last bar closing on the tonic;
2. with ``endings``: the A part's last bar becomes the second ending, and a first ending is drawn
   from the body, one bar closing on the dominant, that turns back to the repeat;
3. the B part: the model continues the A part as played twice (as it heard tunes in training, with
   repeats expanded), ``part_bars`` bars closing on the tonic, with endings drawn the same way.
   Four B parts are drawn at once and the one that restates the A part least is kept: a model
   that has heard A twice often starts it a third time, and a B part is new material.

Every note comes from the model through the sampler, with the cadence masks in each closing bar
(`musicgen.cadence`); nothing is moved afterwards. The result is the tune as played, with a
`TuneForm` that the ABC writer turns into ``|:``, ``:|``, ``|1`` and ``:|2``.
"""

from __future__ import annotations

from dataclasses import dataclass

from musicgen.cadence import bars_since_first_full_bar, cadence_bars
from musicgen.errors import GenerationError
from musicgen.generation import GenerationConfig, fresh_seed
from musicgen.melody import Key, Melody, Meter, PartForm, TuneForm
from musicgen.continuation import LoadedModel, prepare_seed, sample_continuations, variation_seed
from musicgen.progress import ProgressFn, StopFn, check_stop, report
from musicgen.tokens import VOCAB

__all__ = ["generate_tune", "header_seed"]

TONIC, DOMINANT = 1, 5
B_CANDIDATES = 4  # B parts drawn together; the one that restates A least is kept
# Streams of a tune's own seed for its later stages (NumPy seeds (seed, stage[, candidate]))
_FIRST_ENDING, _B_PART, _B_ENDING = 1, 2, 3


def header_seed(meter: Meter, key: Key, title: str = "") -> Melody:
    """A seed with no notes: the tune starts from its meter and key alone."""
    return Melody((), meter=meter, key=key, title=title)


@dataclass
class _Part:
    """One part as drawn: the body (pickup included for A) and its one or two closing bars."""

    body: Melody  # everything before the closing bar, in the key of the seed
    second: Melody  # the closing bar on the tonic (the only closing bar without endings)
    first: Melody | None  # the first ending's bar, on the dominant


def generate_tune(
    seed: Melody,
    generator: LoadedModel,
    config: GenerationConfig,
    *,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[Melody]:
    """``config.variations`` whole tunes in AABB form (see the module docstring)."""
    rng_seed = config.rng_seed if config.rng_seed is not None else fresh_seed()
    adapted, shift = _prepare(seed)
    single = config.replace(variations=1)
    steps = 1 + config.variations * (2 + (2 if config.endings else 0))
    done = 0
    report(on_progress, done, steps, "drawing the A parts")
    a_parts = _draw_a_parts(adapted, shift, generator, config, rng_seed, should_stop)
    done += 1
    tunes = []
    for v, a_whole in enumerate(a_parts):
        # Every stage of tune v draws from a stream of its own seed (the A part from the seed
        # itself), so tune v made alone with that seed is the same tune.
        own = variation_seed(rng_seed, v)
        a = _with_endings(a_whole, adapted, generator, single, own, should_stop)
        done += 1 + (1 if config.endings else 0)
        report(on_progress, done, steps, f"drawing the B part of tune {v + 1}")
        played_a = _played(a)
        b = _draw_b_part(played_a, generator, single, own, should_stop)
        done += 1 + (1 if config.endings else 0)
        report(on_progress, done, steps, f"tune {v + 1} drawn")
        tunes.append(_assemble(seed, a, b, config).with_metadata(
            model=generator.name, **config.provenance(own), set_rng_seed=rng_seed,
            variation=v + 1))
    return tunes


def _prepare(seed: Melody) -> tuple[Melody, int]:
    if seed.notes:
        return prepare_seed(seed)
    from musicgen.tokens import nearest_supported_meter

    meter = nearest_supported_meter(seed.meter)
    header = seed.replace(meter=meter, pickup_ticks=0)
    return header, VOCAB.shift_for(header)


def _draw_a_parts(seed: Melody, shift: int, generator: LoadedModel, config: GenerationConfig,
                  rng_seed: int, should_stop: StopFn | None) -> list[Melody]:
    """The A part of every variation, in one batch: the seed continued to its part's end."""
    full, partial = bars_since_first_full_bar(seed)
    if full and not partial and full % config.part_bars == 0:
        return [seed] * config.variations  # the seed is whole parts already: it is the A part
    bars = cadence_bars(seed, 1, config.part_bars)
    check_stop(should_stop, "generation")
    return sample_continuations(seed, shift, generator, config, bars=bars, degree=TONIC,
                                rng_seed=rng_seed, should_stop=should_stop)


def _with_endings(whole: Melody, seed: Melody, generator: LoadedModel, config: GenerationConfig,
                  rng_seed: int, should_stop: StopFn | None) -> _Part:
    """Split the part's closing bar off, and draw a first ending when the config asks for one."""
    bar = whole.meter.bar_ticks
    cut = whole.duration_ticks - bar
    body, second = whole.slice_ticks(0, cut), whole.slice_ticks(cut, whole.duration_ticks)
    body = body.replace(seed_end_ticks=None)
    first = None
    if config.endings:
        check_stop(should_stop, "generation")
        adapted, shift = _prepare(body) if body.notes else _prepare(seed)
        drawn = sample_continuations(adapted, shift, generator, config, bars=1, degree=DOMINANT,
                                     rng_seed=[(rng_seed, _FIRST_ENDING)],
                                     should_stop=should_stop)[0]
        first = drawn.slice_ticks(adapted.duration_ticks, drawn.duration_ticks)
    return _Part(body, second, first)


def _draw_b_part(played_a: Melody, generator: LoadedModel, config: GenerationConfig, rng_seed: int,
                 should_stop: StopFn | None) -> _Part:
    check_stop(should_stop, "generation")
    adapted, shift = prepare_seed(played_a)
    bars = cadence_bars(adapted, config.part_bars, config.part_bars)
    drawn = sample_continuations(adapted, shift, generator, config.replace(variations=B_CANDIDATES),
                                 bars=bars, degree=TONIC,
                                 rng_seed=[(rng_seed, _B_PART, j) for j in range(B_CANDIDATES)],
                                 should_stop=should_stop)
    parts = [d.slice_ticks(adapted.duration_ticks, d.duration_ticks) for d in drawn]
    b_whole = min(parts, key=lambda b: _bars_shared(played_a, b))  # new material for B
    if not config.endings:
        return _Part(b_whole.slice_ticks(0, b_whole.duration_ticks - b_whole.meter.bar_ticks),
                     b_whole.slice_ticks(b_whole.duration_ticks - b_whole.meter.bar_ticks,
                                         b_whole.duration_ticks), None)
    body_end = b_whole.duration_ticks - b_whole.meter.bar_ticks
    before = played_a.concatenated(b_whole.slice_ticks(0, body_end))
    adapted_before, shift_before = prepare_seed(before)
    ending = sample_continuations(adapted_before, shift_before, generator, config, bars=1,
                                  degree=DOMINANT, rng_seed=[(rng_seed, _B_ENDING)],
                                  should_stop=should_stop)[0]
    first = ending.slice_ticks(adapted_before.duration_ticks, ending.duration_ticks)
    return _Part(b_whole.slice_ticks(0, body_end),
                 b_whole.slice_ticks(body_end, b_whole.duration_ticks), first)


def _bars_shared(played_a: Melody, b_part: Melody) -> int:
    """How many of the B part's bars restate the A part's bar at the same place, token for token.

    A model that heard A twice tends to start A a third time; among the B candidates the one that
    restates least is kept (the first of equals, so a fresh first draw is kept as drawn).
    """
    from musicgen.evaluate.form import bar_signatures

    a_bars = bar_signatures(played_a.slice_ticks(played_a.pickup_ticks, played_a.duration_ticks))
    b_bars = bar_signatures(b_part)
    return sum(x == y for x, y in zip(a_bars, b_bars))


def _played(part: _Part) -> Melody:
    """The part as played twice: body + first ending, then body (no pickup) + second ending."""
    pickup = part.body.pickup_ticks if part.body.duration_ticks >= part.body.pickup_ticks else 0
    again = part.body.slice_ticks(pickup, part.body.duration_ticks)
    return (part.body.concatenated(part.first or part.second).concatenated(again)
            .concatenated(part.second).replace(seed_end_ticks=None))


def _assemble(seed: Melody, a: _Part, b: _Part, config: GenerationConfig) -> Melody:
    """The whole tune as played, with the form that writes it (A then B), seed end kept."""
    if a.body.duration_ticks < a.body.pickup_ticks:
        raise GenerationError("The A part is shorter than its pickup; give a longer seed.")
    pickup = a.body.pickup_ticks
    played_a, played_b = _played(a), _played(b)
    tune = played_a.concatenated(played_b)
    parts = (_part_form("A", pickup, a, pickup), _part_form("B", played_a.duration_ticks, b, 0))
    seed_end = seed.duration_ticks if seed.notes else None
    return tune.replace(form=TuneForm(parts), seed_end_ticks=seed_end, title=seed.title,
                        key=seed.key, tempo_bpm=seed.tempo_bpm)


def _part_form(name: str, start: int, part: _Part, pickup: int) -> PartForm:
    body = part.body.duration_ticks - pickup
    if part.first is None:
        return PartForm(name, start, body + part.second.duration_ticks)
    return PartForm(name, start, body, part.first.duration_ticks, part.second.duration_ticks)
