"""The exception types musicgen raises: every user-facing failure is a MusicGenError."""

from __future__ import annotations

__all__ = [
    "MusicGenError",
    "SeedError",
    "ParseError",
    "WriteError",
    "VocabularyError",
    "CheckpointError",
    "CorpusError",
    "TrainingError",
    "GenerationError",
    "SettingsError",
    "UsageError",
    "PlaybackError",
    "Cancelled",
]


class MusicGenError(Exception):
    """Base class: the message is one sentence a user can act on."""


class SeedError(MusicGenError):
    """A melody file cannot be read (missing, empty, corrupt, too large, no pitched notes...)."""


# Readers raise SeedError; ParseError is the same thing under the name the design sketch uses.
ParseError = SeedError


class WriteError(MusicGenError):
    """A melody or audio file cannot be written (bad folder, unknown suffix, permissions)."""


class VocabularyError(MusicGenError):
    """Ids or a melody that the token vocabulary cannot represent, or a vocabulary mismatch."""


class CheckpointError(MusicGenError):
    """A checkpoint is missing, truncated, tampered with or does not match this version."""


class CorpusError(MusicGenError):
    """A corpus cannot be found, parsed or split."""


class TrainingError(MusicGenError):
    """Training cannot start or continue (bad options, nothing to resume...)."""


class UsageError(MusicGenError):
    """The command line was used wrongly (exit status 2, like argparse's own errors)."""


class GenerationError(MusicGenError):
    """A continuation cannot be generated with the given seed and settings."""


class SettingsError(GenerationError):
    """A generation setting is out of range or of the wrong kind (a temperature of -1, zero bars).

    ``setting`` names the field (``temperature``), so the CLI can name its option.
    """

    def __init__(self, message: str, setting: str = "") -> None:
        super().__init__(message)
        self.setting = setting


class PlaybackError(MusicGenError):
    """Audio cannot be rendered or played."""


class Cancelled(MusicGenError):
    """A long call stopped because its `should_stop` callback said so (not a failure)."""
