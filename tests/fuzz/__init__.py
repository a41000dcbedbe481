"""The fuzz harness: hostile and broken inputs for every reader and the checkpoint loader.

- `seeds`: valid files per format (the repository's data, the test helpers' tunes, a few of
  music21's own test files) that the mutations start from.
- `mutations`: hypothesis strategies: arbitrary bytes, and mutations of valid files (bit flips,
  truncation, chunk duplication, length-field and number tampering, spliced garbage and tokens).
- `harness`: runs one input through the public reader in a child process under a wall-clock and an
  address-space limit (`musicgen.io.bounded`) and sorts the result into an outcome.
- `checkpoints`: the same for a checkpoint (JSON + safetensors) and the three loaders.
- `run`: the long run behind ``make fuzz``: N inputs per format, counts per outcome as JSON lines,
  and every failing input kept in ``regressions/`` (replayed by ``test_regressions.py``).

The suite runs a few dozen inputs per format (seconds); ``make fuzz`` runs 10,000 per format.
"""
