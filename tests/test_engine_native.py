"""The engines' compiled step (musicgen/engine/native.c): built by `make`, equal to torch at every
step of real tunes and at every batch size, interchangeable with the NumPy step mid-tune, safe
with bad ids and two threads, and never used when it is stale, missing or switched off (the
NumPy step then runs, equally right)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from musicgen.checkpoint import load_checkpoint
from musicgen.engine import engine_from_model, load_engine, native
from musicgen.engine.ops import pack
from musicgen.tokens import VOCAB
from tests.test_engine import (SHIPPED, TOLERANCE, checkpoints, engine_stepped, probabilities,
                               real_tunes, torch_stepped)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tunes() -> list[list[int]]:
    return real_tunes()


def test_make_built_the_compiled_step_and_the_engines_use_it():
    """`make test` builds it first (gcc is one of the Makefile's system packages)."""
    assert native.library() is not None, native.status()
    assert native.status().startswith("compiled step")
    for path in SHIPPED:
        engine, _ = load_engine(path, expected_tokens=list(VOCAB.tokens), fallback=False)
        assert engine.compiled
        numpy_only, _ = load_engine(path, fallback=False, compiled=False)
        assert not numpy_only.compiled


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
def test_both_steps_match_torch_at_every_step_of_real_tunes(tiny_checkpoints, tunes, compiled,
                                                            one_torch_thread):
    """Every shipped model and a freshly trained tiny model of each kind (its 64-token context
    slides many times), a 10-token chunk then one token a step, with each step."""
    for path in checkpoints(tiny_checkpoints):
        engine, _ = load_engine(path, fallback=False, compiled=compiled)
        assert engine.compiled == compiled
        model, _ = load_checkpoint(path)
        for ids in tunes:
            ours = probabilities(engine_stepped(engine, ids, 10))
            assert np.abs(ours - probabilities(torch_stepped(model, ids, 10))).max() < TOLERANCE, (
                path.name)


@pytest.mark.parametrize("batch", [1, 2, 3, 8, 12])
@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_every_row_of_a_batch_matches_torch(tiny_checkpoints, tunes, kind, batch,
                                            one_torch_thread):
    """A seed copied into B rows (1, a partial group of streams, exactly 8, 8 + 4), each row fed
    its own tokens of a real tune for 30 steps: every row equals torch's row, shipped and tiny."""
    for path in [p for p in SHIPPED if p.stem.startswith(kind)] + [tiny_checkpoints[kind]]:
        model, _ = load_checkpoint(path)
        engine = engine_from_model(model)
        assert engine.compiled
        seed = tunes[0][:40]
        feeds = np.array([tunes[1 + r % 3][r: r + 30] for r in range(batch)]).T  # (30, B)
        _, state = engine.run(seed, engine.new_state(1))
        state = engine.select(state, np.zeros(batch, dtype=np.int64))
        with torch.inference_mode():
            _, torch_state = model.step(torch.tensor([seed]), model.init_state(1))
            torch_state = model.reorder_state(torch_state, torch.zeros(batch, dtype=torch.long))
            for ids in feeds:
                ours, state = engine.step(ids, state)
                theirs, torch_state = model.step(torch.from_numpy(ids).view(-1, 1), torch_state)
                assert ours.shape == (batch, VOCAB.size)
                difference = np.abs(probabilities(ours) - probabilities(theirs[:, -1].numpy()))
                assert difference.max() < TOLERANCE, path.name


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_compiled_and_numpy_steps_continue_each_others_state(tiny_checkpoints, tunes, kind,
                                                             one_torch_thread):
    """The seed read by NumPy, 20 compiled steps, 20 NumPy steps, 20 compiled again: torch's
    logits all along (the two steps share the state's arrays and layout)."""
    model, _ = load_checkpoint(tiny_checkpoints[kind])
    fast, slow = engine_from_model(model), engine_from_model(model, compiled=False)
    ids = tunes[2][:70]
    logits, state = slow.run(ids[:10], slow.new_state(1))
    rows = [logits]
    for n, token in enumerate(ids[10:]):
        engine = slow if 20 <= n < 40 else fast
        logits, state = engine.step(np.array([token]), state)
        rows.append(logits)
    expected = probabilities(torch_stepped(model, ids, 10))
    assert np.abs(probabilities(np.concatenate(rows)) - expected).max() < TOLERANCE


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_an_id_outside_the_vocabulary_is_refused_and_the_state_kept(tiny_checkpoints, kind):
    model, _ = load_checkpoint(tiny_checkpoints[kind])
    engine = engine_from_model(model)
    _, state = engine.run([VOCAB.bos_id, VOCAB.bar_id], engine.new_state(1))
    state = engine.select(state, np.zeros(2, dtype=np.int64))
    before = engine.select(state, np.arange(2))
    for bad in (VOCAB.size, -1):
        with pytest.raises(IndexError):
            engine.step(np.array([VOCAB.bar_id, bad]), state)
    good = np.array([VOCAB.pitch_id(62), VOCAB.pitch_id(64)])
    after, _ = engine.step(good, state)
    expected, _ = engine.step(good, before)
    np.testing.assert_array_equal(after, expected)


def test_two_threads_stepping_their_own_states_get_what_one_gets(tiny_checkpoints, tunes):
    """ctypes lets go of the GIL during a step: the app's generation and explanation threads may
    step at once, each on its own state and buffers."""
    model, _ = load_checkpoint(tiny_checkpoints["transformer"])
    engine = engine_from_model(model)
    alone = [engine_stepped(engine, ids, 5) for ids in tunes[:2]]
    together: dict[int, np.ndarray] = {}
    threads = [threading.Thread(target=lambda n=n: together.__setitem__(
        n, engine_stepped(engine, tunes[n], 5))) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n in range(2):
        np.testing.assert_array_equal(together[n], alone[n])


@pytest.mark.parametrize("batch", [1, 3, 8, 11])
def test_the_panel_product_equals_numpy(batch):
    """y (out, B) = W^T x for sizes that are not multiples of the 8-wide panels."""
    rng = np.random.default_rng(batch)
    lib = native.library()
    for rows, out in ((5, 3), (193, 580), (64, 1024), (7, 17)):
        weight = rng.standard_normal((rows, out)).astype(np.float32)
        x = rng.standard_normal((rows, batch)).astype(np.float32)
        packed = pack([native.panels(weight)])[0]  # 64-byte aligned, as the engines' panels
        y = np.full((native.padded(out), batch), np.nan, np.float32)
        lib.mg_matmul(native.pointer(x), batch, rows, native.pointer(packed), out,
                      native.pointer(y))
        np.testing.assert_allclose(y[:out], weight.T @ x, rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(y[out:], 0.0)  # the zero-padded outputs


# ------------------------------------------------------------------ when it is not used


def _copy_source(tmp_path: Path, change: str = "") -> Path:
    source = tmp_path / "native.c"
    source.write_text(native.SOURCE.read_text() + change)
    return source


def test_a_library_built_from_another_source_is_never_loaded(tmp_path):
    """A pull that changes native.c without a rebuild: the old library is refused (its source's
    sha256 is compiled in) and the engines step with NumPy."""
    old = _copy_source(tmp_path, "\n/* an older version */\n")
    built = native.build(tmp_path / "_native.so", source=old)
    lib, why = native.find(built, native.SOURCE)
    assert lib is None and "another version of native.c" in why
    lib, why = native.find(built, old)  # against its own source it loads
    assert lib is not None and why.startswith("compiled step")


def test_missing_or_switched_off_means_numpy_with_a_reason(tmp_path, monkeypatch):
    lib, why = native.find(tmp_path / "none.so")
    assert lib is None and "not built" in why and "musicgen.engine.build" in why
    monkeypatch.setenv("MUSICGEN_NATIVE", "0")
    lib, why = native.find()
    assert lib is None and "MUSICGEN_NATIVE=0" in why


def test_a_failed_build_keeps_the_good_library(tmp_path):
    target = native.build(tmp_path / "_native.so")
    good = target.read_bytes()
    broken = _copy_source(tmp_path, "\nthis is not C;\n")
    with pytest.raises(RuntimeError, match="failed"):
        native.build(target, source=broken)
    assert target.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_native.so", "native.c"]
    with pytest.raises(RuntimeError, match="no C compiler"):
        native.build(target, compiler="no-such-compiler-here")


def test_the_build_command_reports_a_missing_compiler_without_failing_make(tmp_path):
    env = {**os.environ, "CC": "no-such-compiler-here"}
    optional = subprocess.run([sys.executable, "-m", "musicgen.engine.build", "--optional"],
                              cwd=ROOT, env=env, capture_output=True, text=True)
    assert optional.returncode == 0
    assert "compiled step not built (no C compiler" in optional.stderr
    required = subprocess.run([sys.executable, "-m", "musicgen.engine.build"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
    assert required.returncode == 1


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc (a Makefile system package)")
def test_generate_gives_the_same_music_with_either_step_in_fresh_processes(tmp_path):
    """`musicgen generate` with the compiled step and with MUSICGEN_NATIVE=0: both answer, and
    greedy decoding (no draws) picks the same notes (logits agree to ~1e-6)."""
    outputs = []
    for flag in ("1", "0"):
        out = tmp_path / f"greedy-{flag}.abc"
        done = subprocess.run(
            [sys.executable, "-m", "musicgen.cli", "generate", str(ROOT / "data" / "kesh-jig.mid"),
             "--bars", "8", "--temperature", "0", "--rng-seed", "7", "-o", str(out)],
            cwd=ROOT, env={**os.environ, "MUSICGEN_NATIVE": flag}, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    assert outputs[0].count("|") >= 8


def test_info_says_which_step_generation_runs(tmp_path):
    """`musicgen info MODEL` names the step, and the reason when it is NumPy's."""
    lines = {}
    for flag in ("1", "0"):
        done = subprocess.run([sys.executable, "-m", "musicgen.cli", "info", "lstm-folk"], cwd=ROOT,
                              env={**os.environ, "MUSICGEN_NATIVE": flag}, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr
        lines[flag] = [line for line in done.stdout.splitlines() if line.startswith("Generates")]
    assert lines["1"] == ["Generates with: compiled step (_native.so)"]
    assert lines["0"] == ["Generates with: compiled step off (MUSICGEN_NATIVE=0): NumPy steps"]


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_the_portable_c_without_avx2_matches_torch_too(tiny_checkpoints, tunes, kind, tmp_path,
                                                       monkeypatch, one_torch_thread):
    """Where the compiler refuses -march=native (another CPU family), the build falls back to
    plain C (`native.PORTABLE`): built here that way, at batches 1 and 3, it equals torch."""
    built = native.build(tmp_path / "_native.so", flags=native.PORTABLE + ["-mno-avx2"])
    lib, why = native.find(built)
    assert lib is not None, why
    monkeypatch.setattr(native, "_FOUND", [(lib, why)])
    model, _ = load_checkpoint(tiny_checkpoints[kind])
    engine = engine_from_model(model)
    assert engine.compiled and engine._lib is lib
    ids = tunes[3][:80]
    expected = probabilities(torch_stepped(model, ids, 10))
    assert np.abs(probabilities(engine_stepped(engine, ids, 10)) - expected).max() < TOLERANCE
    _, state = engine.run(ids[:10], engine.new_state(1))
    state = engine.select(state, np.zeros(3, dtype=np.int64))
    logits, _ = engine.step(np.array(ids[10:13]), state)
    assert np.abs(probabilities(logits[0]) - expected[10]).max() < TOLERANCE


# ------------------------------------------------------------------ found by a second read


def test_loading_the_library_leaves_subnormal_numbers_alone():
    """Linked with -ffast-math, gcc's crtfastmath.o turned on flush-to-zero for the whole process
    the moment the library loaded (torch's and NumPy's subnormals became 0): it is linked apart."""
    program = ("import numpy as np, torch; from musicgen.engine import native; "
               "assert native.library() is not None; "
               "print(float(np.float32(1e-40) * np.float32(1.0)), "
               "float(torch.tensor(1e-40) * 1.0), float(np.float64(1e-310) * 1.0))")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert all(float(x) > 0 for x in done.stdout.split()), done.stdout


def test_draws_switching_between_numpy_and_compiled_use_the_same_numbers():
    """A step drawn by NumPy (float64 logits) then one drawn compiled (float32), across a
    block's refill: the same ids as drawing every step with NumPy from the same numbers."""
    from musicgen.engine.choose import NOISE_BLOCK, Uniforms, draw

    rng = np.random.default_rng(5)
    steps = [rng.standard_normal((3, 37)).astype(np.float32) for _ in range(2 * NOISE_BLOCK + 3)]
    mixed, reference = Uniforms(np.random.default_rng(9), 3), Uniforms(np.random.default_rng(9), 3)
    for n, z in enumerate(steps):
        chosen = mixed.draw(z.astype(np.float64) if n % 3 == 0 else z, 1.0)
        expected = draw(z.astype(np.float64), 1.0, reference.take())  # NumPy's draw
        np.testing.assert_array_equal(chosen, expected)


def test_float32_numbers_and_a_tiny_temperature_are_drawn_right():
    from musicgen.engine.choose import Uniforms, draw

    z = np.array([[0.0, 3.0, -np.inf, 2.9, 1.0]], np.float32)
    u64 = np.array([0.6])
    assert draw(z, 1.0, u64.astype(np.float32)).tolist() == draw(z, 1.0, u64).tolist()
    for seed in range(20):  # 1 / 1e-40 overflows float32: still the top id, not a uniform draw
        numbers = Uniforms(np.random.default_rng(seed), 1)
        assert numbers.draw(z, 1e40).tolist() == [1]
        assert draw(z, 1e40, np.random.default_rng(seed).random(1)).tolist() == [1]


def test_a_state_stepped_by_an_engine_of_other_sizes_gets_its_own_buffers(one_torch_thread):
    """Two engines stepping one state (a shared seed): each step uses buffers sized for the engine
    taking it (a buffer made for d_ff 32 once served an engine of d_ff 128: out of bounds)."""
    from musicgen.models import build_model, model_config

    models = []
    for ff in (32, 128):
        torch.manual_seed(ff)
        config = model_config("transformer", VOCAB.size, "tiny", d_ff=ff)
        models.append(build_model("transformer", config, token_ticks=VOCAB.token_ticks()).eval())
    small, large = (engine_from_model(m) for m in models)
    ids = [VOCAB.bar_id, VOCAB.pitch_id(62), VOCAB.pitch_id(64), VOCAB.pitch_id(66)]
    _, state = small.run(ids[:2], small.new_state(1))
    small.step(np.array([ids[2]]), state)
    logits, state = large.step(np.array([ids[3]]), state)
    # the large engine's step reads the small one's cache: compare with NumPy doing the same
    numpy_large = engine_from_model(models[1], compiled=False)
    _, twin = small.run(ids[:2], small.new_state(1))
    small.step(np.array([ids[2]]), twin)
    expected, _ = numpy_large.step(np.array([ids[3]]), twin)
    assert np.abs(probabilities(logits) - probabilities(expected)).max() < TOLERANCE
