"""The engines' compiled step (``native.c``): optional, found once per process, NumPy otherwise.

A generation step is a few small products and a few hundred element-wise operations; in NumPy
that is 40 (LSTM) to 150 (Transformer) calls of ~1 us each, and OpenBLAS repacks each matrix
on every product. ``native.c`` does a whole step in one call, on the engines' own folded
weights laid out once in panels (`panels`), and on their own state arrays, so a seed read by
NumPy's ``run`` continues with this step and the other way round. Figures: README "Inference
engine" (benchmarks/bench_engine.py).

- ``python -m musicgen.engine.build`` compiles it (gcc or ``CC``, ``-O3
  -march=native``) into ``_native.so`` beside this file; ``make venv`` runs it. Nothing is
  ever compiled while generating.
- `library()` is the loaded library, or None where it is missing, was built from another
  version of ``native.c`` (its sha256 is compiled in), was built for instructions this CPU
  lacks, or ``MUSICGEN_NATIVE=0``; `status()` says which, in a sentence (``musicgen info``).
- The engines call it through ctypes, which lets go of the GIL during the call.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path

import numpy as np

__all__ = ["library", "status", "panels", "build", "LIBRARY", "SOURCE", "FLAGS", "PANEL"]

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "native.c"
LIBRARY = HERE / "_native.so"
# Compiled with -ffast-math (sums reassociated so they vectorise) but linked without it: linking a
# shared library with it adds gcc's crtfastmath.o, whose constructor turns on flush-to-zero for
# the whole process on load (torch's and NumPy's subnormals became 0: tested).
FLAGS = ["-std=c11", "-O3", "-march=native", "-ffast-math", "-fno-finite-math-only", "-fPIC"]
PORTABLE = [flag for flag in FLAGS if flag != "-march=native"]  # where -march=native fails
PANEL = 8  # outputs per panel (native.c's PANEL)

_P, _I = ctypes.c_void_p, ctypes.c_int
_SIGNATURES = {
    "mg_lstm_step": (ctypes.c_int, [_P, _I, _P, _P, _P, _P, _P]),
    "mg_transformer_step": (ctypes.c_int, [_P, _P, _I, _I, _I, _P, _P, _P, _P, _P, _P, _P]),
    "mg_transformer_work": (ctypes.c_size_t, [_I, _I, _I, _I, _I, _I]),
    "mg_matmul": (None, [_P, _I, _I, _P, _I, _P]),
    "mg_draw": (None, [_P, _I, _I, ctypes.c_ssize_t, ctypes.c_float, _P, _P]),
    "mg_source": (ctypes.c_char_p, []),
    "mg_cpu_ok": (ctypes.c_int, []),
}
_FOUND: list = []  # [(library or None, status sentence)], decided once


def source_sha(source: Path = SOURCE) -> str:
    return hashlib.sha256(source.read_bytes()).hexdigest()


def find(library_path: Path = LIBRARY, source: Path = SOURCE) -> tuple[ctypes.CDLL | None, str]:
    """The library at ``library_path`` if it may be used, and a sentence saying which step runs."""
    if os.environ.get("MUSICGEN_NATIVE", "1") == "0":
        return None, "compiled step off (MUSICGEN_NATIVE=0): NumPy steps"
    if not library_path.exists():
        return None, ("compiled step not built (python -m musicgen.engine.build): "
                      "NumPy steps")
    try:
        lib = ctypes.CDLL(str(library_path))
        for name, (restype, argtypes) in _SIGNATURES.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
    except (OSError, AttributeError) as exc:
        return None, f"compiled step unusable ({exc}): NumPy steps"
    if source.exists() and lib.mg_source().decode() != source_sha(source):
        return None, ("compiled step built from another version of native.c (rebuild: "
                      "python -m musicgen.engine.build): NumPy steps")
    if not lib.mg_cpu_ok():
        return None, "compiled step built for another CPU (rebuild it here): NumPy steps"
    return lib, f"compiled step ({library_path.name})"


def library() -> ctypes.CDLL | None:
    """The compiled step library, or None (`status` says why); decided once per process."""
    if not _FOUND:
        _FOUND.append(find())
    return _FOUND[0][0]


def status() -> str:
    """One sentence: which step the engines use, and why not the compiled one."""
    library()
    return _FOUND[0][1]


def panels(weight: np.ndarray) -> np.ndarray:
    """W (in, out) as native.c reads it: (ceil(out / 8), in, 8) float32, zero-padded outputs."""
    rows, out = weight.shape
    count = -(-out // PANEL)
    padded = np.zeros((rows, count * PANEL), np.float32)
    padded[:, :out] = weight
    return np.ascontiguousarray(padded.reshape(rows, count, PANEL).transpose(1, 0, 2))


def padded(n: int) -> int:
    return -(-n // PANEL) * PANEL


def pointer(array: np.ndarray) -> int:
    """The address of a C-contiguous array's first element. It costs ~1.5 us (as ``.ctypes.data``
    does), more than a small step's C work: callers take it once for a buffer they keep."""
    if not array.flags.c_contiguous:
        raise ValueError("the compiled step needs C-contiguous arrays")
    return array.__array_interface__["data"][0]


def build(output: Path = LIBRARY, compiler: str | None = None, source: Path = SOURCE,
          flags: list[str] | None = None) -> Path:
    """Compile ``source`` (native.c) into ``output`` (written to a temporary file, then moved in
    place, so a failed build never replaces a good library); RuntimeError with the compiler's
    words. With ``FLAGS`` (the default) for this CPU, else, where the compiler refuses
    ``-march=native``, the portable C without AVX2 (``PORTABLE``)."""
    import shutil  # building only (make), never on the way to generating
    import subprocess
    import tempfile

    compiler = compiler or os.environ.get("CC") or "gcc"
    if shutil.which(compiler) is None:
        raise RuntimeError(f"no C compiler ({compiler}) found")
    output = Path(output)
    with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
        target, objects = Path(tmp) / output.name, Path(tmp) / "native.o"
        for attempt in ([flags] if flags is not None else [FLAGS, PORTABLE]):
            done = subprocess.run([compiler, *attempt, f'-DMG_SOURCE_SHA="{source_sha(source)}"',
                                   "-c", "-o", str(objects), str(source)],
                                  capture_output=True, text=True)
            if done.returncode == 0:
                break
        if done.returncode == 0:  # linked apart, without -ffast-math (see FLAGS)
            done = subprocess.run([compiler, "-shared", "-o", str(target), str(objects), "-lm"],
                                  capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{compiler} failed: {done.stderr.strip()[-2000:]}")
        os.replace(target, output)
    return output
