"""Every input the long fuzz run kept (``tests/fuzz/regressions``) still ends acceptably.

Files are named ``<outcome>-<sha1>.<suffix>`` by `tests.fuzz.run`: the outcome they had when found
(a foreign exception, a message that was no sentence, a budget stop...). Each must now end as a
melody (or a loaded model), as one sentence naming the file, or be stopped by the read budget.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.seeds import SUFFIX

REGRESSIONS = Path(__file__).parent / "regressions"
_FORMAT_OF = {suffix: fmt for fmt, suffix in SUFFIX.items()}


def _kept(fmt: str) -> list[Path]:
    folder = REGRESSIONS / fmt
    return sorted(folder.glob(f"*{SUFFIX[fmt]}")) if folder.is_dir() else []


READER_FILES = [p for fmt in SUFFIX for p in _kept(fmt)]
CHECKPOINT_FILES = sorted((REGRESSIONS / "checkpoint").glob("*.json")) \
    if (REGRESSIONS / "checkpoint").is_dir() else []


@pytest.mark.parametrize("path", READER_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_kept_reader_input(path: Path, tmp_path: Path) -> None:
    from musicgen.io.bounded import ReadBudget
    from tests.fuzz.harness import read_outcome

    budget = ReadBudget(seconds=2.0, memory_mb=512)  # some are kept because a budget stops them
    outcome = read_outcome(_FORMAT_OF[path.suffix], path.read_bytes(), tmp_path, budget)
    assert not outcome.failed, f"{outcome.kind}: {outcome.detail}"


@pytest.mark.parametrize("path", CHECKPOINT_FILES, ids=lambda p: p.name)
def test_kept_checkpoint_input(path: Path, tmp_path: Path) -> None:
    import torch  # noqa: F401 - imported once here, so the forked child inherits it

    from tests.fuzz.checkpoints import CHECKPOINT_FAILURES, load_outcome

    kind, detail = load_outcome((path.read_bytes(), path.with_suffix(".safetensors").read_bytes()),
                                tmp_path)
    assert kind not in CHECKPOINT_FAILURES, f"{kind}: {detail}"


def test_the_kept_inputs_are_there() -> None:
    """The regression folder is populated (a glob that found nothing would test nothing)."""
    assert READER_FILES and CHECKPOINT_FILES
