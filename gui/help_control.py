"""HelpControl: the Help menu's pages: keyboard shortcuts, getting started, and About.

The shortcut list is read from the window's actions (`gui.actions.Actions`), so it cannot drift
from what the keys do; About reads the version and the licences from the installed packages'
metadata and the shipped models from their cards (`musicgen.library`), so nothing in it is typed
by hand. Each page is a `gui.widgets.help_dialog.HelpDialog` (non-modal: the window stays usable
beside it).
"""

from __future__ import annotations

from html import escape
from importlib import metadata

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from gui.widgets.help_dialog import HelpDialog

__all__ = ["HelpControl", "LICENSED_PACKAGES", "about_html", "getting_started_html",
           "shortcuts_html"]

# What the app is built on, with the role each plays (licences are read from their metadata).
LICENSED_PACKAGES = (
    ("PySide6", "the window (Qt for Python)"),
    ("music21", "reading MusicXML and ABC; the folk collections the models learned from"),
    ("verovio", "engraving the score"),
    ("mido", "MIDI files and ports"),
    ("numpy", "generating without torch"),
    ("torch", "training and evaluating"),
    ("safetensors", "model files"),
    ("platformdirs", "your data folders"),
)

_MOUSE = (("Click a note on the roll or the score", "play from there; see why the model chose it"),
          ("Drag across bars on the roll", "select them, to regenerate with Ctrl+R"),
          ("Ctrl + mouse wheel on the roll", "zoom in or out"),
          ("Drop a file on the window", "open it as the seed"))

GETTING_STARTED = (
    ("Choose a seed", "File ▸ Open (MIDI, ABC or MusicXML), drop a file on the window, type ABC "
     "in the Seed tab, or pick a tune in the Corpus tab. The roll shows it in blue."),
    ("Choose a model", "On the right: the LSTM or the Transformer, or a model you trained on your "
     "own tunes (Model ▸ Train on my tunes)."),
    ("Set the music you want", "Temperature: lower stays safe, higher is more adventurous. Length "
     "and Variations: how many bars, how many tries. End on a cadence closes the phrase where a "
     "musician would; Make ▸ Whole tune (AABB) writes an A and a B part, each played twice."),
    ("Generate", "Ctrl+G. The new bars appear in orange after the seed; each variation is a row "
     "in the list, with its own RNG seed (the same seed gives the same notes)."),
    ("Listen and shape", "Space plays the variation shown. Click a note to see why the model chose "
     "it; drag across bars and press Ctrl+R to draw them again."),
    ("Keep it", "Ctrl+E exports MIDI, ABC, MusicXML or WAV. Your seed and variations are also "
     "kept when you quit and come back at the next start."),
)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def shortcuts_html(actions: list[QAction]) -> str:
    """A table of every action with a shortcut (from the actions themselves), then the mouse."""
    rows = []
    for action in actions:
        keys = action.shortcut().toString()
        if keys:
            tip = action.statusTip()
            rows.append((keys, tip or _plain(action.text()).rstrip("…")))
    rows += list(_MOUSE)
    cells = "".join(f"<tr><td style='padding-right:14px'><b>{escape(k)}</b></td>"
                    f"<td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<h3>Keyboard shortcuts and mouse</h3><table>{cells}</table>"


def getting_started_html() -> str:
    steps = "".join(f"<li><b>{escape(title)}.</b> {escape(text)}</li>"
                    for title, text in GETTING_STARTED)
    return f"<h3>Getting started</h3><ol>{steps}</ol>"


def _licence(package: str) -> tuple[str, str]:
    """(version, licence) from the installed package's metadata ("not installed" when absent)."""
    try:
        meta = metadata.metadata(package)
    except metadata.PackageNotFoundError:
        return "not installed", ""
    licence = meta.get("License-Expression") or ""
    if not licence:
        classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                       if c.startswith("License ::")]
        licence = ", ".join(classifiers)
    if not licence:
        first = (meta.get("License") or "").strip().splitlines()
        licence = first[0][:60] if first else "not stated"
    return meta.get("Version", "?"), licence


def about_html(models: list) -> str:
    """Version, the models shipped (from their cards) and the licences of what the app uses."""
    version, _ = _licence("musicgen")
    shipped = [m for m in models if not getattr(m, "user", False)]
    model_rows = "".join(
        f"<li><b>{escape(m.name)}</b>: {escape(str(m.kind))}, "
        f"{'?' if m.parameters is None else f'{m.parameters / 1e6:.1f} M'} parameters, trained on "
        f"the {escape(str(m.corpus or '?'))} corpus"
        + (f"; {m.bits_per_note:.2f} bits per note on {escape(str(m.measured_on))}"
           if m.bits_per_note is not None and m.measured_on else "") + "</li>"
        for m in shipped) or "<li>none found</li>"
    rows = "".join(
        f"<tr><td style='padding-right:10px'>{escape(name)}</td>"
        f"<td style='padding-right:10px'>{escape(_licence(name)[0])}</td>"
        f"<td style='padding-right:10px'>{escape(_licence(name)[1])}</td><td>{escape(role)}</td></tr>"
        for name, role in LICENSED_PACKAGES)
    return (f"<h3>musicgen {escape(version)}</h3>"
            "<p>Continues folk melodies with an LSTM or a Transformer next-note model.</p>"
            f"<p><b>Models shipped</b></p><ul>{model_rows}</ul>"
            "<p>The shipped models learned from the folk collections that come with music21 "
            "(O'Neill's, Ryan's Mammoth Collection, Aird's Airs, Essen, Nottingham and others); "
            "no tune from them is shipped with musicgen.</p>"
            f"<p><b>Built on</b> (version, licence, what for)</p><table>{rows}</table>")


class HelpControl(QObject):
    """Shows the Help pages; ``models`` gives the current model cards (for About)."""

    def __init__(self, shortcuts_action: QAction, getting_started_action: QAction,
                 about_action: QAction, all_actions: list[QAction], *, models,
                 dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self._actions, self._models, self._parent = all_actions, models, dialog_parent
        self.dialog: HelpDialog | None = None
        shortcuts_action.triggered.connect(self.show_shortcuts)
        getting_started_action.triggered.connect(self.show_getting_started)
        about_action.triggered.connect(self.show_about)

    def show_shortcuts(self) -> HelpDialog:
        return self._show("Keyboard shortcuts", shortcuts_html(self._actions))

    def show_getting_started(self) -> HelpDialog:
        return self._show("Getting started", getting_started_html())

    def show_about(self) -> HelpDialog:
        return self._show("About musicgen", about_html(list(self._models())))

    def _show(self, title: str, html: str) -> HelpDialog:
        if self.dialog is None:
            self.dialog = HelpDialog(self._parent)
        self.dialog.show_page(title, html)
        return self.dialog
