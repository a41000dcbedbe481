#!/usr/bin/env bash
# Listening examples for data/examples/: real seeds continued by the shipped models with the app's
# default settings (temperature 1.0, meter constraint on, no key lock, ending on a cadence), and
# whole tunes in AABB form; each written as ABC (to read), MIDI and WAV (to hear).
#     scripts/make_examples.sh [OUT_DIR]     (default data/examples; a relative OUT_DIR is from the repo root)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-data/examples}
mkdir -p "$out"
gen() {  # name model args...
    local name=$1 model=$2; shift 2
    for ext in abc mid wav; do
        .venv/bin/musicgen generate "$@" --model "$model" --rng-seed 2026 -o "$out/$name.$ext" > "$out/$name.txt"
    done
    printf 'command: musicgen generate %s --model %s --rng-seed 2026 -o %s/%s.mid\n' "$*" "$model" "$out" "$name" >> "$out/$name.txt"
}
gen kesh-jig-transformer transformer data/kesh-jig.abc --seed-bars 4 --bars 8 --cadence
gen silver-spear-lstm lstm data/tunebook.abc --tune 2 --seed-bars 4 --bars 8 --cadence
gen si-bheag-transformer transformer data/tunebook.abc --tune 3 --seed-bars 4 --bars 8 --cadence
gen kesh-aabb-transformer transformer data/kesh-jig.abc --seed-bars 4 --form aabb --endings
gen reel-from-nothing-transformer transformer --meter 4/4 --key "D major" --form aabb
