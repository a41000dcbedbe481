"""Every benchmark and script still runs: each benchmark's ``--smoke`` mode as a real subprocess.

The benchmarks measure nothing here (timing belongs in `benchmarks/`); these tests only prove that
each one starts, runs every measurement on tiny inputs and prints the JSON lines it promises, so a
change in `musicgen` cannot leave a benchmark broken unnoticed.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support import MODEL_KINDS, write_abc_corpus

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 180  # a smoke run takes seconds; this only stops a hung one on a busy machine


def run_python(args: list[str], tmp_path: Path,
               extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python ARGS` from the repository root, with the user folders inside `tmp_path`."""
    env = {**os.environ, "MUSICGEN_DATA_DIR": str(tmp_path / "user-data"),
           "MUSICGEN_CACHE_DIR": str(tmp_path / "user-cache"), "QT_QPA_PLATFORM": "offscreen",
           **(extra_env or {})}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)


def json_lines(stdout: str) -> list[dict]:
    """Every stdout line parsed as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def positive(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


# --- what each benchmark must print ---------------------------------------------------------------
def check_corpus(lines: list[dict]) -> None:
    benches = ["corpus_stages", "corpus_cold_prepare", "corpus_warm_prepare", "corpus_load"]
    assert [r["bench"] for r in lines] == benches
    stages, cold, warm, load = lines
    assert stages["tunes"] >= 1 and positive(stages["inline_cpu_ms_per_tune"])
    assert set(stages["cpu_ms_per_tune"]) == {"checks_and_fields", "music21_tokenise",
                                              "music21_build_stream", "to_melody"}
    assert positive(stages["cpu_ms_per_tune"]["music21_build_stream"])
    assert positive(stages["forked_per_tune_cpu_ms"])
    assert cold["tunes"] == warm["tunes"] == load["tunes"] == 12 and cold["workers"] == 1
    assert positive(cold["seconds"]) and positive(cold["cpu_seconds"]) and positive(cold["parse_seconds"])
    assert cold["parse_seconds"] + cold["check_split_write_seconds"] <= cold["seconds"] + 0.01
    assert len(cold["load_average_before"]) == 3 and len(warm["load_average_after"]) == 3
    assert warm["seconds"] >= 0 and load["seconds"] >= 0
    assert all(r["cpu_count"] >= 1 and r["machine"] for r in lines)


def check_generate(lines: list[dict]) -> None:
    per_kind = ["model", "single_stream", "end_to_end_8x16_bars", "cache_batching_gain"]
    assert [r["bench"] for r in lines] == ["machine", *per_kind * 2, "machine_after"]
    assert lines[0]["threads"] == 1 and len(lines[-1]["load_average"]) == 3
    assert [r["kind"] for r in lines if r["bench"] == "model"] == ["lstm", "transformer"]
    for row in lines[1:-1]:
        assert row["weights"] == "random-init"
        if row["bench"] == "model":
            assert positive(row["parameters"]) and row["config"]["vocab_size"] > 0
        elif row["bench"] == "single_stream":
            assert row["tokens"] > 0
            speeds = ("tokens_per_s", "tokens_per_cpu_s", "model_step_only_tokens_per_s",
                      "model_step_cpu_us")
            assert all(positive(row[k]) for k in speeds)
            assert isinstance(row["met"], bool)
        elif row["bench"] == "end_to_end_8x16_bars":
            assert row["variations"] == 2 and row["bars"] == 2 and positive(row["seed_tokens"])
            assert positive(row["seconds"]) and isinstance(row["met"], bool)
        else:
            assert row["variations"] == 8 and positive(row["new_tokens_each"])
            assert all(positive(row[k]) for k in ("ours_s", "no_cache_no_batch_s", "ratio"))
            assert (row["target_ratio"] is None) == (row["kind"] == "lstm")


def check_key_handling(lines: list[dict]) -> None:
    layouts = ("tonic_c", "absolute", "absolute_aug")
    assert [r["layout"] for r in lines] == [name for name in layouts for _ in range(3)]
    best = {r["layout"]: r for r in lines if "best_order" in r}
    assert set(best) == set(layouts)
    for row in lines:
        assert positive(row["val_bits_per_note"])
    for layout, row in best.items():
        scored = {r["order"]: r["val_bits_per_note"] for r in lines
                  if r["layout"] == layout and "order" in r}
        assert sorted(scored) == [2, 3]
        assert row["val_bits_per_note"] == min(scored.values()) == scored[row["best_order"]]
        assert row["val_tunes"] >= 1 and positive(row["train_tokens"]) and row["corpus_fingerprint"]
    # one semitone of augmentation: each training tune three times (down, as written, up)
    assert best["absolute_aug"]["train_sequences"] == 3 * best["absolute"]["train_sequences"]


def check_model_speed(lines: list[dict]) -> None:
    assert [(r["kind"], r["preset"], r["batch"]) for r in lines] == [("lstm", "tiny", 1),
                                                                     ("transformer", "tiny", 1)]
    for row in lines:
        assert row["bench"] == "model_step" and row["threads"] == 1
        figures = ("parameters", "prefill_ms", "tokens_per_s", "stream_tokens_per_s")
        assert all(positive(row[k]) for k in figures)


def check_finetune(lines: list[dict]) -> None:
    assert [r["bench"] for r in lines] == ["fine_tune", "fine_tune_size", "fine_tune_size"]
    run, base, sized = lines
    assert run["tunes_found"] == run["tunes_kept"] == 30 and run["held_out_tunes"] == 3
    assert positive(run["bits_per_note_before"]) and positive(run["bits_per_note_after"])
    assert run["bits_per_note_after"] <= run["bits_per_note_before"]
    assert positive(run["peak_rss_mb"]) and run["gui_max_stall_ms"] >= 0
    assert base["tunes"] == 0 and sized["tunes"] == 5
    assert positive(base["eval_bits_per_note"]) and positive(sized["eval_bits_per_note"])


def check_train(lines: list[dict]) -> None:
    benches = ["corpus", *["train_throughput"] * 2, *["time_to_target"] * 2]
    assert [r["bench"] for r in lines] == benches
    corpus = lines[0]
    assert corpus["tunes"] == sum(corpus["splits"].values()) == 30
    assert min(corpus["splits"].values()) >= 1
    for row in lines[1:]:
        assert row["preset"] == "tiny" and row["device"] in ("cpu", "cuda")
    assert [r["model"] for r in lines[1:3]] == [r["model"] for r in lines[3:]] == list(MODEL_KINDS)
    for row in lines[1:3]:
        assert row["steps"] > 0
        assert positive(row["tokens_per_s"]) and positive(row["val_bits_per_note"])
        assert 0 <= row["padding_fraction"] < 1
    for row in lines[3:]:  # the smoke target is met at the first validation, then training stops
        assert row["reached"] is True and row["epochs"] == 1
        assert row["steps"] >= 1 and row["seconds"] >= 0
        assert row["best_bits_per_note_without_reaching"] is None


def check_cadence(lines: list[dict]) -> None:
    assert [r["bench"] for r in lines] == ["cadence", "cadence", "aabb"] * 2
    for off, on, aabb in (lines[:3], lines[3:]):
        assert not off["cadence"] and on["cadence"] and on["candidates"] == 2
        assert on["cadence_share"] == 1.0  # enforced, even by a model trained for one epoch
        assert positive(on["bits_per_generated_note"]) and positive(on["bits_ratio_vs_off"])
        assert set(on["overlap"]) == {"pitch_class", "note_length", "interval", "pitch_range"}
        assert aabb["structure_share"] == 1.0 and aabb["parts_tonic_or_dominant_share"] == 1.0
        assert 0 <= aabb["copy_4bars_share"] <= 1 and aabb["tunes"] >= 1


def check_app(lines: list[dict]) -> None:
    startup, *phases = lines
    assert startup["bench"] == "app_startup" and startup["torch_loaded_at_start"] is False
    assert positive(startup["process_to_window_s_best"])
    assert [r["phase"] for r in phases] == ["load_model", "generate", "generate_again"]
    assert all(positive(r["seconds"]) and r["max_stall_ms"] >= 0 for r in phases)


def check_engine(lines: list[dict]) -> None:
    assert lines[0]["bench"] == "machine" and lines[-1]["bench"] == "machine_after"
    steps = [r for r in lines if r["bench"] == "engine_step"]
    assert [(r["kind"], r["batch"]) for r in steps] == [
        ("lstm", 1), ("lstm", 8), ("transformer", 1), ("transformer", 8)]
    assert all(positive(r["numpy_ms"]) and positive(r["torch_ms"]) for r in steps)
    # `make` builds the compiled step: the engine's row is it, the NumPy-only step beside it
    assert lines[0]["compiled_step"].startswith("compiled step")
    assert all(positive(r["numpy_only_ms"]) for r in steps)
    assert all(d < 1e-4 for r in lines if r["bench"] == "engine_equality"
               for d in r["max_probability_difference"].values())
    samplers = [r for r in lines if r["bench"] == "sampler"]
    assert [r["batch"] for r in samplers] == [1, 8, 1, 8]
    assert all(positive(r["sampler_us_per_step"]) and positive(r["tokens_per_s"]["numpy"])
               for r in samplers)
    layouts = next(r for r in lines if r["bench"] == "weight_layouts")
    assert positive(layouts["columns_speedup"]) and positive(layouts["packed_speedup"])


def check_shape(lines: list[dict]) -> None:
    benches = ["engrave_64_bars", "regenerate_2_bars", "regenerate_2_bars", "window", "window",
               "machine"]
    assert [r["bench"] for r in lines] == benches
    assert positive(lines[0]["seconds_median"]) and lines[0]["notes"] > 0
    for row in lines[1:3]:
        assert positive(row["seconds_median"]) and row["seconds_max"] >= row["seconds_median"]
    for row, kind in zip(lines[3:5], MODEL_KINDS):
        assert row["model"] == f"{kind}-tiny" and row["clicks"] == 3
        assert positive(row["panel_fill_ms_median"]) and positive(row["regenerate_s"])
        assert positive(row["pick_s"]) and row["max_stall_ms"] >= row["max_gui_cpu_ms"] >= 0
        assert (row["attention_ms_median"] is None) == (kind == "lstm")


def check_memory(lines: list[dict]) -> None:
    rows, summary = lines[:-1], lines[-1]
    kinds = {r["scenario"].split("_")[0] + "_" + r["scenario"].split("_")[1] for r in rows}
    assert {"cli_generate", "app_generate", "app_first", "cli_open", "app_open", "cli_prepare",
            "app_prepare", "train_lstm"} <= kinds, kinds
    assert all(positive(r["peak_pss_mb"]) and positive(r["peak_process_rss_mb"])
               and r["limit_mb"] in (400, 1024, 1536) for r in rows)
    first = next(r for r in rows if r["scenario"] == "app_first_generate")
    assert first["limit_mb"] == 400  # issue 17: start-up plus a first generation
    assert summary["bench"] == "memory_summary" and summary["scenarios"] == len(rows)


def check_real_files(lines: list[dict]) -> None:
    quant = {(r["case"], r["method"]): r for r in lines if r["part"] == "quantisation"}
    for case in ("straight", "triplets", "swing_62", "swing_triplet"):
        for method in ("ours", "nearest_tick", "nearest_16th"):
            row = quant[(case, method)]
            assert row["notes"] > 0 and 0 <= row["recovered_share"] <= 1
    assert quant[("data_midi_files", "ours")]["tunes"] >= 1
    keyed = {(r["case"], r["method"]): r for r in lines if r["part"] == "key"}
    for case in ("whole_tune", "first_8_bars", "data_midi_files"):
        for method in ("ours", "krumhansl", "krumhansl_final_note", "last_note"):
            row = keyed[(case, method)]
            assert row["tunes"] >= 1
            assert 0 <= row["exact_share"] <= row["tonic_share"] <= 1 and 0 <= row["scale_share"] <= 1


def check_cli_start(lines: list[dict]) -> None:
    rows = {(r["seed"], r["reading"]): r for r in lines}
    assert set(rows) == {("kesh-jig.mid", "any"), ("kesh-jig.abc", "first"), ("kesh-jig.abc", "again"),
                         ("kesh-jig.musicxml", "first"), ("kesh-jig.musicxml", "again")}
    for row in rows.values():
        assert row["bench"] == "cli_generate_start" and row["runs"] == 1
        assert 0 < row["wall_s"] and 0 < row["cpu_s"] and row["target_s"] == 0.5
        assert row["imports"]["torch"] is False
    assert rows[("kesh-jig.mid", "any")]["imports"]["music21"] is False  # the key estimate is keyfind's
    for seed in ("kesh-jig.abc", "kesh-jig.musicxml"):
        assert rows[(seed, "first")]["imports"]["music21"] is True  # music21 parses the file
        assert rows[(seed, "again")]["imports"]["music21"] is False  # its reading was kept


BENCHMARKS: dict[str, Callable[[list[dict]], None]] = {
    "bench_cli_start": check_cli_start,
    "bench_engine": check_engine,
    "bench_app": check_app,
    "bench_cadence": check_cadence,
    "bench_corpus": check_corpus,
    "bench_finetune": check_finetune,
    "bench_generate": check_generate,
    "bench_key_handling": check_key_handling,
    "bench_memory": check_memory,
    "bench_model_speed": check_model_speed,
    "bench_real_files": check_real_files,
    "bench_shape": check_shape,
    "bench_train": check_train,
}


# bench_shape's smoke run only needs some tiny model of each kind: it takes the suite's instead of
# training two (12 s). bench_app and bench_finetune still train their own, so the benchmarks'
# training script runs too (bench_finetune's fine-tune of the suite's model took longer).
GIVEN_TINY_MODELS = {"bench_shape"}


# The smoke runs are subprocesses that wait on nothing but the CPU: two run at once (this
# machine's cores), longest first, started when the first of them is checked; each test then
# checks its own. Only the runs the session selected are started.
SMOKE_AT_ONCE = 2
LONGEST_FIRST = ["bench_memory", "bench_finetune", "bench_train", "bench_app", "bench_cli_start"]


@pytest.fixture(scope="module")
def smoke_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """{benchmark: (its folder, the future of its `--smoke` run)} for the selected benchmarks."""
    from benchmarks.bench_app import TINY_MODELS_ENV

    wanted = {item.callspec.params["name"] for item in request.session.items
              if getattr(item, "originalname", "") == "test_benchmark_smoke_run_prints_its_figures"}
    order = sorted(wanted, key=lambda n: (LONGEST_FIRST.index(n) if n in LONGEST_FIRST
                                          else len(LONGEST_FIRST), n))
    pool = ThreadPoolExecutor(max_workers=SMOKE_AT_ONCE)
    runs = {}
    for name in order:
        folder = tmp_path_factory.mktemp(name)
        extra = None
        if name in GIVEN_TINY_MODELS:
            ready = request.getfixturevalue("tiny_checkpoints")["lstm"].parent
            extra = {TINY_MODELS_ENV: str(ready)}
        runs[name] = folder, pool.submit(run_python, [f"benchmarks/{name}.py", "--smoke"], folder,
                                         extra)
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_benchmark_smoke_run_prints_its_figures(name: str, smoke_runs) -> None:
    folder, running = smoke_runs[name]
    result = running.result()
    assert result.returncode == 0, result.stderr[-3000:]
    lines = json_lines(result.stdout)
    assert lines and all(row.get("smoke") is True for row in lines)
    BENCHMARKS[name](lines)
    # smoke runs keep to their own temporary folders, never the user's (here: the run's folder's)
    assert not (folder / "user-data").exists() and not (folder / "user-cache").exists()


# --- scripts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_model_card_writes_metrics_and_card_from_evaluate_reports(
    kind: str, tiny_checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    source = tiny_checkpoints[kind]
    for suffix in (".safetensors", ".json"):  # the script rewrites the JSON: work on a copy
        shutil.copy(source.with_suffix(suffix), folder / source.with_suffix(suffix).name)
    checkpoint = folder / source.name
    tunes = write_abc_corpus(tmp_path / "tunes", count=30)
    reports = {}
    for split, extra in (("test", ["--samples", "2"]), ("val", ["--no-music"])):
        result = run_python(["-m", "musicgen.cli", "evaluate", str(checkpoint),
                             "--corpus", str(tunes), "--split", split, "--json",
                             "--ngram-max-order", "3", *extra], tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        reports[split] = tmp_path / f"eval-{split}.json"
        reports[split].write_text(result.stdout, encoding="utf-8")
    before = json.loads(checkpoint.with_suffix(".json").read_text(encoding="utf-8"))

    stem = checkpoint.with_suffix("")
    result = run_python(["scripts/model_card.py", str(stem), "--test", str(reports["test"]),
                         "--val", str(reports["val"]), "--note", "made by a test"], tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    test, val = (json.loads(reports[s].read_text(encoding="utf-8")) for s in ("test", "val"))
    meta = json.loads(checkpoint.with_suffix(".json").read_text(encoding="utf-8"),
                      parse_constant=lambda name: pytest.fail(f"the checkpoint JSON holds {name}"))
    metrics = meta["metrics"]
    assert metrics["test_bits_per_note"] == test["bits_per_note"]
    assert metrics["val_bits_per_note"] == val["bits_per_note"]
    assert metrics["training_val_bits_per_note"] == before["metrics"]["val_bits_per_note"]
    assert metrics["ngram_order"] == test["ngram_order"]
    assert metrics["test_per_collection"] == test["per_collection"]
    assert metrics["test_oneills_ryans_bits_per_note"] is None  # no fiddle tunes in this corpus
    card = stem.with_suffix(".md").read_text(encoding="utf-8")
    display = "LSTM" if kind == "lstm" else "Transformer"
    assert card.startswith(f"# {stem.name}: the shipped {display} model")
    assert f"| test | {test['bits_per_note']:.3f} | {test['ngram_bits_per_note']:.3f} |" in card
    assert "- made by a test" in card and "O'Neill's + Ryan's" not in card
    from musicgen.pipeline import load_generator

    # still a valid checkpoint, and its card now shows the test figure
    assert load_generator(checkpoint).card.bits_per_note == test["bits_per_note"]


def test_make_examples_commands_match_the_command_line() -> None:
    from musicgen.cli import build_parser
    from musicgen.library import MODEL_NAMES

    script = (ROOT / "scripts" / "make_examples.sh").read_text(encoding="utf-8")
    calls = [shlex.split(line)[1:] for line in script.splitlines() if line.startswith("gen ")]
    assert len(calls) >= 3
    for name, model, *gen_args in calls:
        # a seed file, or a tune from nothing (--meter and --key)
        assert model in MODEL_NAMES
        assert (ROOT / gen_args[0]).is_file() or ("--meter" in gen_args and "--key" in gen_args)
        # with the options `gen` adds, parsed by the real `musicgen` parser (bad usage exits 2)
        args = build_parser().parse_args(["generate", *gen_args, "--model", model,
                                          "--rng-seed", "2026", "-o", f"{name}.mid"])
        assert args.model == model and args.rng_seed == 2026
