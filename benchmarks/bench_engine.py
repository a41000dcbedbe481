"""Inference engines side by side: the NumPy engine, ONNX Runtime and torch eager, in one run.

Prints JSON lines. For each shipped model (or a random-initialised one of the shipped size):
a batch-1 and a batch-8 step on one core (CPU seconds per step, best of --repeats, so a busy
machine's waiting is left out; ratios to torch in the same run), each engine's largest
probability difference from torch, and the sampler's own cost per step. Then start-up (import
and load, each in a fresh process), install size, and two weight layouts (`weight_layouts`).

    taskset -c 1 .venv/bin/python benchmarks/bench_engine.py [--repeats 7] [--steps 300] [--smoke]

"numpy" is the engine as `musicgen generate` and the app use it: one compiled call a step where
`make` built it (musicgen/engine/native.c), and "numpy_only" the same engine with NumPy calls
alone (no compiler, or MUSICGEN_NATIVE=0).

ONNX Runtime is measured when it is installed (`pip install onnxruntime onnx`); it is not a
dependency of musicgen. Its graphs are exported here from the torch models (one step with the
LSTM state or the key/value cache as inputs and outputs; the cache grows by concatenation).
`--smoke` (seconds; the test suite runs it): tiny random models, few steps, one repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from musicgen.engine import engine_from_model  # noqa: E402
from musicgen.engine.threads import blas_threads  # noqa: E402
from musicgen.engine.torch_engine import TorchEngine  # noqa: E402
from musicgen.generation import GenerationConfig  # noqa: E402
from musicgen.sampling import generate_ids  # noqa: E402
from musicgen.tokens import VOCAB  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from onnx_export import OrtEngine, have_onnxruntime  # noqa: E402

# the plain-C floor of a batch-1 step (issue 17, measured once on the issue author's machine), and
# the targets; the floor on the machine running this is measured too (`FLOOR_HERE`), and each
# batch-1 row gives the engine's ratio to it (target 2)
FLOOR_MS = {"lstm": 0.12, "transformer": 0.30}
TARGET_MS = {"lstm": 0.25, "transformer": 0.6}
EXTRA: dict[str, Any] = {}
FLOOR_HERE: dict[str, float] = {}  # the plain-C floor measured in this run (bench_floor.py)


def emit(**fields: Any) -> None:
    print(json.dumps({**fields, **EXTRA}), flush=True)


def cpu_ms_per_call(fn: Callable[[], Any], calls: int, repeats: int) -> float:
    """Best of ``repeats`` of the thread's CPU milliseconds per call (after one warm-up call)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.thread_time() - start) / calls)
    return best * 1e3


def load_model(kind: str, smoke: bool) -> tuple[Any, str]:
    """The shipped checkpoint's torch model, or a random one of the shipped (or tiny) size."""
    if not smoke:
        from musicgen.checkpoint import load_checkpoint
        from musicgen.library import resolve_checkpoint

        try:
            return load_checkpoint(resolve_checkpoint(kind))[0], "shipped"
        except Exception:  # noqa: BLE001  (not shipped here: time a random model of the same size)
            pass
    from musicgen.models import build_model, model_config

    torch.manual_seed(0)
    config = model_config(kind, VOCAB.size, "tiny" if smoke else "cpu")
    return build_model(kind, config, token_ticks=VOCAB.token_ticks()).eval(), "random-init"


def seed_ids(count: int) -> list[int]:
    from musicgen.io import read_melody

    return VOCAB.encode(read_melody(ROOT / "data" / "kesh-jig.abc"), end=False)[:count]


def step_timer(engine: Any, seed: list[int], batch: int, steps: int,
               prefill: bool = False) -> Callable[[], None]:
    """A function that copies the seed's state into ``batch`` rows and steps ``steps`` times (the
    state is rebuilt each call, so the context is the same every time); ``prefill`` also runs the
    seed each call (what `generate_ids` does besides sampling)."""
    token = np.full(batch, VOCAB.pitch_id(67), dtype=np.int64)
    _, seeded = engine.run(seed, engine.new_state(1))

    def run() -> None:
        start = engine.run(seed, engine.new_state(1))[1] if prefill else seeded
        state = engine.select(start, np.zeros(batch, dtype=np.int64))
        for _ in range(steps):
            _, state = engine.step(token, state)
    return run


def max_difference(engine: Any, reference: Any, ids: list[int]) -> float:
    """Largest |p - p_torch| over every next-token probability of ``ids`` (cached steps)."""
    def stepped(e: Any) -> np.ndarray:
        logits, state = e.run(ids[:8], e.new_state(1))
        rows = [logits]
        for token in ids[8:]:
            logits, state = e.step(np.array([token]), state)
            rows.append(logits)
        z = np.concatenate(rows).astype(np.float64)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)
    return float(np.abs(stepped(engine) - stepped(reference)).max())


def engines_for(model: Any, folder: Path) -> dict[str, Any]:
    """"numpy" is the engine as generation uses it: its step compiled where `make` built
    musicgen/engine/_native.so; "numpy_only" the same engine stepping with NumPy calls alone
    (where the compiled step is missing or off)."""
    found = {"numpy": engine_from_model(model), "torch": TorchEngine(model)}
    if found["numpy"].compiled:
        found["numpy_only"] = engine_from_model(model, compiled=False)
    if have_onnxruntime():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on axis names
            started = time.perf_counter()
            found["onnxruntime"] = OrtEngine.export(model, folder)
            emit(bench="onnx_export", kind=model.kind, seconds=round(time.perf_counter() - started, 2))
    return found


def compare_steps(kind: str, weights: str, engines: dict[str, Any], args: argparse.Namespace) -> None:
    seed = seed_ids(64 if not args.smoke else 16)
    for batch in (1, 8):
        ms = {}
        for name, engine in engines.items():
            with engine.running(1):
                ms[name] = cpu_ms_per_call(step_timer(engine, seed, batch, args.steps), 1,
                                           args.repeats) / args.steps
        row = {f"{name}_ms": round(value, 4) for name, value in ms.items()}
        ratios = {f"{name}_speedup_vs_torch": round(ms["torch"] / value, 2)
                  for name, value in ms.items() if name != "torch"}
        extra = {}
        if batch == 1:
            extra = {"c_floor_ms": FLOOR_MS[kind], "target_ms": TARGET_MS[kind],
                     "met": ms["numpy"] <= TARGET_MS[kind]}
            here = FLOOR_HERE.get(kind)
            if here:  # the same step in plain C on this machine, this run (bench_floor.py)
                extra.update(c_floor_here_ms=round(here, 4),
                             numpy_to_floor_here=round(ms["numpy"] / here, 2), target_ratio=2,
                             met_here=ms["numpy"] <= 2 * here)
        emit(bench="engine_step", kind=kind, weights=weights, batch=batch, context=len(seed),
             steps=args.steps, **row, **ratios,
             tokens_per_s={name: round(batch / value * 1e3) for name, value in ms.items()}, **extra)


def compare_equality(kind: str, engines: dict[str, Any], tokens: int) -> None:
    ids = seed_ids(tokens)
    emit(bench="engine_equality", kind=kind, tokens=len(ids),
         max_probability_difference={name: max_difference(engine, engines["torch"], ids)
                                     for name, engine in engines.items() if name != "torch"})


class _FrozenEngine:
    """An engine whose every step returns the same logits at no cost, and whose state is nothing:
    what remains of `generate_ids` with it is the sampler's own work (masks, draws, trackers,
    bookkeeping). The engine's own work at the start of a call (making K rows of its state: for
    the Transformer, a key/value cache for each row, about 3 us a step of a 300-step call at
    batch 8) is engine work, as its steps are, and left out with them."""

    def __init__(self, engine: Any, seed: list[int]) -> None:
        self.engine, self.vocab_size = engine, engine.vocab_size
        self.logits = np.repeat(engine.run(seed, engine.new_state(1))[0][-1:], 64, axis=0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def new_state(self, batch: int) -> None:
        return None

    def select(self, state: Any, rows: np.ndarray) -> None:
        return None

    def run(self, ids: Sequence[int], state: Any) -> tuple[np.ndarray, Any]:
        return np.repeat(self.logits[:1], len(ids), axis=0), state

    def step(self, ids: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        return self.logits[:len(ids)], state


def sampler_overhead(kind: str, engines: dict[str, Any], args: argparse.Namespace) -> None:
    """generate_ids end to end (tokens/s) with each engine, and the sampler's own cost per step
    (with `_FrozenEngine`), at batch 1 and 8. "before" is what generating cost before the engine:
    issue 4's sampler (read from git history, commit `BEFORE_COMMIT`) on the torch model, in
    the same process; absent where the history is not at hand."""
    from musicgen.io import read_melody
    from musicgen.tokens import GrammarTracker

    melody = read_melody(ROOT / "data" / "kesh-jig.abc").first_bars(4)
    seed = VOCAB.encode(melody, end=False)
    before = _sampler_before()
    for batch in (1, 8):
        config = GenerationConfig(bars=None, max_tokens=args.steps, stop_at_end=False,
                                  variations=batch)

        def sample(engine: Any, generate: Callable[..., Any] = generate_ids,
                   rng: Callable[[], Any] = lambda: np.random.default_rng(0)) -> float:
            return cpu_ms_per_call(lambda: generate(
                engine, seed, config, tracker=GrammarTracker.from_melody(VOCAB, melody),
                rng=rng()), 1, args.repeats) / args.steps
        per_step = {name: sample(engines[name]) for name in ("numpy", "numpy_only", "torch")
                    if name in engines}
        if before is not None:
            per_step["before"] = sample(engines["torch"].model, before.generate_ids,
                                        lambda: torch.Generator().manual_seed(0))
        own = sample(_FrozenEngine(engines["numpy"], seed))
        extra = {}
        if before is not None:
            extra = {"numpy_speedup_vs_before": round(per_step["before"] / per_step["numpy"], 2),
                     "target_speedup": 2}
        emit(bench="sampler", kind=kind, batch=batch,
             tokens_per_s={name: round(batch / ms * 1e3) for name, ms in per_step.items()},
             **extra, sampler_us_per_step=round(own * 1e3, 1), target_us=20)


BEFORE_COMMIT = "d9b2539^"  # the last commit before the engine and the NumPy sampler


def _sampler_before() -> Any:
    """musicgen/sampling.py as of `BEFORE_COMMIT`, imported as a module of its own; None where
    git or the history is missing."""
    import importlib.util

    try:
        source = subprocess.run(["git", "show", f"{BEFORE_COMMIT}:musicgen/sampling.py"], cwd=ROOT,
                                capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(tempfile.mkdtemp(prefix="sampler-before-")) / "sampling_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("sampling_before", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# ------------------------------------------------------------------------------ start-up, size
_STARTUP = {
    "numpy": ("from musicgen.engine import load_engine; load_engine(PATH)", ""),
    "numpy_only": ("import os; os.environ['MUSICGEN_NATIVE'] = '0'; "
                   "from musicgen.engine import load_engine; load_engine(PATH)", ""),
    "onnxruntime": ("import numpy, onnxruntime as ort; ort.InferenceSession(ONNX, "
                    "providers=['CPUExecutionProvider'])", "onnxruntime"),
    "torch": ("from musicgen.checkpoint import load_checkpoint; load_checkpoint(PATH)", ""),
}


def startup(kind: str, path: Path | None, onnx_path: Path | None, repeats: int) -> None:
    """Import plus load, in a fresh process each time (best of ``repeats``, wall seconds)."""
    if path is None:
        return
    seconds = {}
    for name, (code, needs) in _STARTUP.items():
        if needs and (onnx_path is None or not have_onnxruntime()):
            continue
        program = ("import time; t = time.perf_counter(); " + code.replace("PATH", repr(str(path)))
                   .replace("ONNX", repr(str(onnx_path))) + "; print(time.perf_counter() - t)")
        runs = [float(subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True,
                                     text=True, check=True).stdout) for _ in range(repeats)]
        seconds[name] = round(min(runs), 3)
    emit(bench="engine_startup", kind=kind, import_and_load_s=seconds)


def install_size() -> None:
    """Megabytes each runtime adds to an environment (its distribution and what it requires)."""
    def size(name: str, seen: set[str]) -> int:
        key = name.lower().replace("_", "-")
        if key in seen:
            return 0
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            return 0
        total = sum((p.size or 0) for p in dist.files or [] if p.hash is not None or p.size)
        for requirement in dist.requires or []:
            if "extra ==" not in requirement:
                total += size(requirement.split(";")[0].split("[")[0].split("<")[0].split(">")[0]
                              .split("=")[0].split("!")[0].strip(), seen)
        return total
    mb = {name: round(size(name, {"numpy"} if name != "numpy" else set()) / 2**20, 1)
          for name in ("numpy", "onnxruntime", "onnx", "torch", "threadpoolctl")}
    from musicgen.engine import native

    mb["compiled_step"] = (round(native.LIBRARY.stat().st_size / 2**20, 2)
                           if native.LIBRARY.exists() else 0.0)
    emit(bench="install_size", megabytes_beyond_numpy=mb)


def weight_layouts(repeats: int) -> None:
    """Two layout choices of the engine, each against the alternative: the LSTM's product at 8
    streams with streams as columns ((4H x H) @ (H x 8), `engine.lstm`) or as rows, and the
    shipped-size Transformer's 17 products of a batch-1 step with the weights packed in one
    huge-page block (`ops.pack`) or as separate arrays."""
    from musicgen.engine.ops import pack

    rng = np.random.default_rng(0)
    w = rng.standard_normal((1024, 256), dtype=np.float32)  # (4H, H)
    w_rows = np.ascontiguousarray(w.T)
    cols = rng.standard_normal((256, 8), dtype=np.float32)
    rows = rng.standard_normal((8, 256), dtype=np.float32)
    shapes = [(193, 580), (193, 192), (193, 768), (769, 192)] * 4 + [(193, 144)]
    separate = [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]
    packed = pack(separate)
    x = rng.standard_normal((1, 193), dtype=np.float32)
    h = rng.standard_normal((1, 769), dtype=np.float32)

    def products(weights: list[np.ndarray]) -> Callable[[], None]:
        def run() -> None:
            for weight in weights:
                np.matmul(h if weight.shape[0] == 769 else x, weight)
        return run
    with blas_threads(1):
        as_rows = cpu_ms_per_call(lambda: rows @ w_rows, 200, repeats)
        as_cols = cpu_ms_per_call(lambda: w @ cols, 200, repeats)
        apart = cpu_ms_per_call(products(separate), 100, repeats)
        together = cpu_ms_per_call(products(packed), 100, repeats)
    emit(bench="weight_layouts", lstm_8_streams_us={"as_rows": round(as_rows * 1e3, 1),
                                                    "as_columns": round(as_cols * 1e3, 1)},
         columns_speedup=round(as_rows / as_cols, 2),
         transformer_products_us={"separate": round(apart * 1e3, 1),
                                  "packed": round(together * 1e3, 1)},
         packed_speedup=round(apart / together, 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--smoke", action="store_true", help="seconds: tiny random models")
    args = parser.parse_args()
    if args.smoke:
        args.repeats, args.steps, EXTRA["smoke"] = 1, 5, True
    torch.set_num_threads(1)
    from musicgen.engine import native

    emit(bench="machine", cpu_count=os.cpu_count(), numpy=np.__version__, torch=torch.__version__,
         compiled_step=native.status(),
         onnxruntime=metadata.version("onnxruntime") if have_onnxruntime() else None,
         load_average=[round(x, 2) for x in os.getloadavg()])
    if not args.smoke:  # the shipped models' step in plain C, here (tiny smoke models have none)
        from bench_floor import measure_floor

        FLOOR_HERE.update(measure_floor(repeats=args.repeats, steps=args.steps))
        emit(bench="c_floor_here", ms_per_step={k: round(v, 4) for k, v in FLOOR_HERE.items()},
             note="benchmarks/bench_floor.py; empty without a C compiler")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("lstm", "transformer"):
            model, weights = load_model(kind, args.smoke)
            engines = engines_for(model, Path(tmp))
            compare_steps(kind, weights, engines, args)
            compare_equality(kind, engines, 40 if args.smoke else 400)
            sampler_overhead(kind, engines, args)
            if not args.smoke:
                from musicgen.library import resolve_checkpoint

                onnx = Path(tmp) / f"{kind}-step.onnx"
                startup(kind, resolve_checkpoint(kind), onnx if onnx.exists() else None, 3)
    install_size()
    weight_layouts(args.repeats)
    emit(bench="machine_after", load_average=[round(x, 2) for x in os.getloadavg()])


if __name__ == "__main__":
    main()
