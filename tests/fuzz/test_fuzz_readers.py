"""A short fuzz run in the suite: every reader meets hostile bytes and mutated files (seconds).

The long run is ``make fuzz`` (`tests.fuzz.run`); what it finds is replayed by
``test_regressions.py``. Here each format gets a few dozen new inputs per run (hypothesis draws
fresh ones every time), each read in a child process under a wall-clock and a memory limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from musicgen.io.bounded import ReadBudget
from tests.fuzz.checkpoints import CHECKPOINT_FAILURES, checkpoint_input, load_outcome
from tests.fuzz.harness import read_outcome
from tests.fuzz.mutations import fuzz_input
from tests.fuzz.seeds import FORMATS, seed_files

SUITE_EXAMPLES = {"midi": 40, "abc": 25, "musicxml": 25, "mxl": 25}
SUITE_BUDGET = ReadBudget(seconds=2.0, memory_mb=512)
_SETTINGS = settings(deadline=None, database=None, phases=[Phase.generate],
                     suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_valid_seed_reads(fmt: str, tmp_path: Path) -> None:
    """The mutations start from files that read: a failure below is the mutation's doing."""
    for data in seed_files(fmt):
        outcome = read_outcome(fmt, data, tmp_path)
        assert outcome.kind == "melody", outcome.detail


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_inputs_end_in_a_melody_or_one_sentence(fmt: str, tmp_path: Path) -> None:
    seen: dict[str, int] = {}

    @settings(_SETTINGS, max_examples=SUITE_EXAMPLES[fmt])
    @given(fuzz_input(fmt))
    def one(data: bytes) -> None:
        outcome = read_outcome(fmt, data, tmp_path, SUITE_BUDGET)
        seen[outcome.kind] = seen.get(outcome.kind, 0) + 1
        assert not outcome.failed, f"{outcome.kind}: {outcome.detail}"

    one()
    assert sum(seen.values()) >= SUITE_EXAMPLES[fmt] // 2 and "seed_error" in seen, seen


def test_hostile_checkpoints_load_or_end_in_one_sentence(tmp_path: Path) -> None:
    import torch  # noqa: F401 - imported once here, so each forked child inherits it

    @settings(_SETTINGS, max_examples=30)
    @given(checkpoint_input())
    def one(pair: tuple[bytes, bytes]) -> None:
        kind, detail = load_outcome(pair, tmp_path)
        assert kind not in CHECKPOINT_FAILURES, f"{kind}: {detail}"

    one()
