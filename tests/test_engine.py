"""The torch-free inference engine: equal to torch at every step of real tunes, reproducible,
falling back to torch (with a warning) where it cannot run a checkpoint, and never importing torch
on the way from `musicgen generate` or `musicgen info`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from musicgen.checkpoint import load_checkpoint
from musicgen.engine import LSTMEngine, TransformerEngine, engine_from_model, load_engine
from musicgen.engine.torch_engine import TorchEngine
from musicgen.generation import GenerationConfig
from musicgen.io import read_melody
from musicgen.pipeline import continue_melody, load_generator
from musicgen.sampling import generate_ids
from musicgen.tokens import VOCAB, GrammarTracker

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.with_suffix(".safetensors") for p in (ROOT / "checkpoints").glob("*.json"))
TOLERANCE = 1e-4  # on every next-token probability


def real_tunes() -> list[list[int]]:
    """Token ids of real tunes: The Kesh (412 tokens) and three of O'Neill's from music21's corpus
    (a reel, a hornpipe and an air or jig: their first three tunes)."""
    import music21

    oneills = Path(music21.__file__).parent / "corpus" / "oneills1850" / "0001-0050.abc"
    melodies = [read_melody(ROOT / "data" / "kesh-jig.abc")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reductions (grace notes, chords) are counted, not errors
        melodies += [read_melody(oneills, tune=n) for n in (1, 2, 3)]
    return [VOCAB.encode(m) for m in melodies]


@pytest.fixture(scope="module")
def tunes() -> list[list[int]]:
    return real_tunes()


def checkpoints(tiny_checkpoints: dict[str, Path]) -> list[Path]:
    return SHIPPED + [tiny_checkpoints["lstm"], tiny_checkpoints["transformer"]]


def probabilities(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def torch_stepped(model, ids: list[int], prefix: int) -> np.ndarray:
    """torch's logits (T, V) for a tune fed as a prefix chunk, then one token per step (cached)."""
    with torch.inference_mode():
        logits, state = model.step(torch.tensor([ids[:prefix]]), model.init_state(1))
        rows = [logits[0]]
        for token in ids[prefix:]:
            logits, state = model.step(torch.tensor([[token]]), state)
            rows.append(logits[0])
    return torch.cat(rows).numpy()


def engine_stepped(engine, ids: list[int], prefix: int) -> np.ndarray:
    logits, state = engine.run(ids[:prefix], engine.new_state(1))
    rows = [logits]
    for token in ids[prefix:]:
        logits, state = engine.step(np.array([token]), state)
        rows.append(logits)
    return np.concatenate(rows)


# ---------------------------------------------------------------------------------- equality


def test_there_are_shipped_models_to_check():
    assert {p.stem for p in SHIPPED} >= {"lstm-folk", "transformer-folk"}


def test_every_model_matches_torch_at_every_step_of_real_tunes(tiny_checkpoints, tunes,
                                                               one_torch_thread):
    """With the cache (a 10-token chunk, then a token a step, sliding past the context like torch)
    and without (the whole sequence at once, up to the context), for every shipped model and a
    freshly trained tiny model of each kind (whose 64-token context slides many times)."""
    assert sum(len(t) for t in tunes) > 1000
    for path in checkpoints(tiny_checkpoints):
        engine, _ = load_engine(path, expected_tokens=list(VOCAB.tokens), fallback=False)
        model, _ = load_checkpoint(path)
        for ids in tunes:
            cached = probabilities(engine_stepped(engine, ids, 10))
            assert np.abs(cached - probabilities(torch_stepped(model, ids, 10))).max() < TOLERANCE
            window = ids[: model.max_context or len(ids)]
            with torch.inference_mode():
                expected = model(torch.tensor([window]))[0][0].numpy()
            whole = probabilities(engine.forward(window))
            assert np.abs(whole - probabilities(expected)).max() < TOLERANCE, path.name


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_rows_of_one_batch_step_independently_like_torch(tiny_checkpoints, tunes, kind,
                                                          one_torch_thread):
    """K rows copied from one seed, then fed different tokens: each row equals torch's row."""
    model, _ = load_checkpoint(tiny_checkpoints[kind])
    engine = engine_from_model(model)
    seed, rows = tunes[0][:40], np.array([VOCAB.pitch_id(60), VOCAB.pitch_id(67), VOCAB.bar_id])
    _, state = engine.run(seed, engine.new_state(1))
    state = engine.select(state, np.zeros(3, dtype=np.int64))
    with torch.inference_mode():
        _, torch_state = model.step(torch.tensor([seed]), model.init_state(1))
        torch_state = model.reorder_state(torch_state, torch.zeros(3, dtype=torch.long))
        for _ in range(3):
            ours, state = engine.step(rows, state)
            theirs, torch_state = model.step(torch.from_numpy(rows).view(-1, 1), torch_state)
            assert np.abs(probabilities(ours) - probabilities(theirs[:, -1].numpy())).max() < TOLERANCE
            rows = rows[::-1].copy()


def test_sinusoidal_positions_match_torch(tunes):
    from musicgen.models import build_model, model_config

    torch.manual_seed(1)
    config = model_config("transformer", VOCAB.size, "tiny", pos_encoding="sinusoidal",
                          bar_position=True)
    model = build_model("transformer", config, token_ticks=VOCAB.token_ticks()).eval()
    engine = engine_from_model(model)
    assert isinstance(engine, TransformerEngine)
    ids = tunes[1]
    stepped = probabilities(engine_stepped(engine, ids, 5))
    assert np.abs(stepped - probabilities(torch_stepped(model, ids, 5))).max() < TOLERANCE


def test_the_engines_are_the_numpy_ones_for_both_kinds(tiny_checkpoints):
    lstm, _ = load_engine(tiny_checkpoints["lstm"], fallback=False)
    transformer, _ = load_engine(tiny_checkpoints["transformer"], fallback=False)
    assert isinstance(lstm, LSTMEngine) and isinstance(transformer, TransformerEngine)
    model, _ = load_checkpoint(tiny_checkpoints["transformer"])
    assert transformer.parameters == model.num_parameters()
    with pytest.raises(ValueError, match="context"):
        transformer.forward([VOCAB.bos_id] * (model.max_context + 1))


# ---------------------------------------------------------------------------- reproducibility


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_same_rng_seed_same_music_within_one_engine(tiny_checkpoints, kind):
    generator = load_generator(tiny_checkpoints[kind])
    seed = read_melody(ROOT / "data" / "kesh-jig.abc").first_bars(4)
    config = GenerationConfig(variations=3, bars=4, rng_seed=7, temperature=1.3, top_k=20,
                              top_p=0.95)
    first = continue_melody(seed, generator, config)
    assert [m.notes for m in first] == [m.notes for m in continue_melody(seed, generator, config)]
    other = continue_melody(seed, generator, config.replace(rng_seed=8))
    assert [m.notes for m in first] != [m.notes for m in other]


def test_greedy_torch_and_numpy_agree(tiny_checkpoints):
    """Temperature 0 follows the argmax: the two backends pick the same ids."""
    seed = read_melody(ROOT / "data" / "kesh-jig.abc").first_bars(3)
    ids = VOCAB.encode(seed, end=False)
    config = GenerationConfig(temperature=0, bars=4, variations=2)
    for kind, path in tiny_checkpoints.items():
        model, _ = load_checkpoint(path)
        rows = [generate_ids(backend, ids, config, tracker=GrammarTracker.from_melody(VOCAB, seed))
                for backend in (model, engine_from_model(model))]
        assert rows[0] == rows[1], kind


# ------------------------------------------------------------------------------------ fallback


def test_a_checkpoint_the_engine_cannot_run_falls_back_to_torch(tiny_checkpoints, monkeypatch,
                                                                  tunes):
    """Pretend the NumPy Transformer lacks learned positions: the generator says so and runs torch,
    whose distributions are torch's own."""
    import musicgen.engine.transformer as numpy_transformer

    monkeypatch.setattr(numpy_transformer, "POS_ENCODINGS", ("sinusoidal",))
    path = tiny_checkpoints["transformer"]
    with pytest.warns(UserWarning, match="cannot run .*learned.* torch instead"):
        generator = load_generator(path)
    assert isinstance(generator.engine, TorchEngine)
    model, _ = load_checkpoint(path)
    ids = tunes[0][:60]
    assert np.abs(probabilities(generator.engine.forward(ids))
                  - probabilities(TorchEngine(model).forward(ids))).max() == 0
    result = continue_melody(read_melody(ROOT / "data" / "kesh-jig.abc").first_bars(2), generator,
                             GenerationConfig(bars=2, rng_seed=1))
    assert result[0].continuation.note_count > 0


def test_the_engine_refuses_tensors_it_does_not_know(tiny_checkpoints):
    from musicgen.checkpoint import read_checkpoint_arrays
    from musicgen.engine import EngineUnsupported, engine_from_arrays

    arrays, document = read_checkpoint_arrays(tiny_checkpoints["lstm"])
    config = document["model"]["config"]
    with pytest.raises(EngineUnsupported, match="unknown tensor"):
        engine_from_arrays("lstm", config, {**arrays, "lstm.weight_hr_l0": arrays["head.bias"]})
    with pytest.raises(EngineUnsupported, match="float32"):
        engine_from_arrays("lstm", config, {**arrays, "head.bias": arrays["head.bias"].astype(np.float64)})
    with pytest.raises(EngineUnsupported, match="kind"):
        engine_from_arrays("gru", config, arrays)


def test_a_generator_still_gives_its_torch_model_for_evaluation(tiny_checkpoints):
    generator = load_generator(tiny_checkpoints["lstm"])
    assert isinstance(generator.engine, LSTMEngine)
    model = generator.model
    assert model.kind == "lstm" and generator.model is model


# ---------------------------------------------------------------------------------- no torch


def test_generate_and_info_never_import_torch(tiny_checkpoints, tmp_path):
    code = (
        "import sys, json\n"
        "from musicgen.cli import main\n"
        "out = sys.argv[1]\n"
        "codes = [main(['info', sys.argv[2]]),\n"
        "         main(['generate', sys.argv[2], '--bars', '2', '--rng-seed', '1', '-o', out]),\n"
        "         main(['generate', sys.argv[2], '--model', sys.argv[3], '--bars', '2',\n"
        "               '--cadence', '--variations', '2', '-o', out]),\n"
        "         main(['generate', '--meter', '6/8', '--key', 'D major', '--form', 'aabb',\n"
        "               '--model', sys.argv[3], '--part-bars', '4', '-o', out])]\n"
        "print(json.dumps({'codes': codes, 'torch': 'torch' in sys.modules}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out.mid"), str(ROOT / "data" / "kesh-jig.mid"),
         str(tiny_checkpoints["transformer"])],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"codes": [0, 0, 0, 0], "torch": False}, done.stderr


def test_generate_imports_only_its_own_command_and_numpy_with_one_blas_thread(tmp_path):
    """`musicgen generate` builds only its own subcommand's arguments (the other commands' modules
    are not imported) and starts NumPy with one BLAS thread (OpenBLAS starting a thread per core
    doubled the import); a setting the user made is kept; `--help` still lists every command."""
    code = (
        "import os, sys, json\n"
        "from musicgen.cli import main\n"
        "code = main(['generate', sys.argv[1], '--bars', '2', '--rng-seed', '1', '-o', sys.argv[2]])\n"
        "from threadpoolctl import threadpool_info\n"
        "blas = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
        "print(json.dumps({'code': code, 'blas': blas, 'env': os.environ.get('OPENBLAS_NUM_THREADS'),\n"
        "                  'commands': sorted(m for m in sys.modules if m.startswith('musicgen.commands.'))}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    args = [sys.executable, "-c", code, str(ROOT / "data" / "kesh-jig.mid"), str(tmp_path / "o.mid")]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
                          env=env)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0 and result["env"] == "1" and set(result["blas"]) <= {1}
    assert result["commands"] == ["musicgen.commands.generate"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
                          env={**env, "OPENBLAS_NUM_THREADS": "2"})
    assert json.loads(done.stdout.strip().splitlines()[-1])["env"] == "2"
    listing = subprocess.run([sys.executable, "-m", "musicgen.cli", "--help"], cwd=ROOT,
                             capture_output=True, text=True, check=True, timeout=60).stdout
    for name in ("info", "generate", "prepare", "train", "evaluate", "models"):
        assert re.search(rf"^\s+{name}\s", listing, re.M), listing
