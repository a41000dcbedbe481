"""musicgen: continue folk melodies with an LSTM or a Transformer.

API map (each import is cheap except where noted):
  musicgen.melody     Note, Meter, Key, Melody: frozen value types on a 12-ticks-per-quarter grid
  musicgen.errors     MusicGenError and its subclasses
  musicgen.io         read_melody, read_tunes, write_melody (MIDI, ABC, MusicXML; music21 loads lazily)
  musicgen.tokens     the vocabulary: Melody <-> ids, grammar, version
  musicgen.corpus     the folk corpus and custom corpora: parse, cache, split, report
  musicgen.models     LSTM and Transformer next-token models (torch)
  musicgen.sampling   temperature / top-k / top-p sampling with constraint masks (torch)
  musicgen.train      the training loop (torch)
  musicgen.checkpoint safetensors + JSON checkpoints (torch)
  musicgen.evaluate   bits per note, Kneser-Ney baseline, musical statistics
  musicgen.playback   melody -> PCM (numpy), WAV
  musicgen.pipeline   load_generator, continue_melody: what the GUI and CLI call
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
