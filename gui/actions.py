"""Every QAction of the main window, declared in one place with its text, shortcut and tip."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

__all__ = ["Actions"]


class Actions:
    """The window's actions; `build_menus` puts them in the menu bar."""

    def __init__(self, parent: QWidget) -> None:
        def make(text: str, shortcut: str | QKeySequence.StandardKey | None = None,
                 tip: str = "", checkable: bool = False) -> QAction:
            action = QAction(text, parent)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            if tip:
                action.setStatusTip(tip)
                action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
            action.setCheckable(checkable)
            parent.addAction(action)  # shortcuts work even when the menu bar is hidden
            return action

        self.open = make("&Open…", "Ctrl+O", "Open a MIDI, ABC or MusicXML melody as the seed")
        self.open_checkpoint = make("Open &checkpoint…", None, "Use a model checkpoint you trained")
        self.train = make("&Train on my tunes…", None,
                          "Fine-tune a model on your own tunes, guarded against copying them")
        self.export = make("&Export…", "Ctrl+E", "Export the selected variation")
        self.quit = make("&Quit", "Ctrl+Q", "Close musicgen")
        self.generate = make("&Generate", "Ctrl+G", "Continue the seed with the chosen model")
        self.stop = make("&Stop", "Esc", "Stop the running generation")
        self.play = make("&Play / Stop", "Space", "Play the selected melody, or stop")
        self.loop = make("&Loop", "Ctrl+L", "Play again from the start when the end is reached",
                         checkable=True)
        self.refresh_midi_ports = make("Find &MIDI output ports", None,
                                       "Look again for MIDI output ports to play through")
        self.zoom_in = make("Zoom &in", "Ctrl++", "Zoom the piano roll in")
        self.zoom_out = make("Zoom &out", "Ctrl+-", "Zoom the piano roll out")
        self.zoom_fit = make("&Fit to window", "Ctrl+0", "Show the whole melody")
        self.show_seed = make("Show the &seed", None, "Show the seed alone in the piano roll")
        # Shaping a variation (gui.shape_control) and which views show it (gui.score_control)
        self.undo = make("&Undo edit", "Ctrl+Z", "Undo the last edit of this variation")
        self.redo = make("&Redo edit", "Ctrl+Shift+Z", "Redo the edit undone last")
        self.regenerate = make("Re&generate selected bars", "Ctrl+R",
                               "Sample the bars dragged over on the roll again; the rest stays")
        self.view_modes = {mode: make(text, None, tip, checkable=True) for mode, text, tip in (
            ("roll", "Piano &roll only", "Show the piano roll only"),
            ("score", "S&core only", "Show the staff notation only"),
            ("both", "Roll &and score", "Show the piano roll and the staff notation"))}
        self.help_shortcuts = make("&Keyboard shortcuts", None, "Every shortcut and mouse gesture")
        self.help_getting_started = make("&Getting started", "F1",
                                         "How to continue a melody, step by step")
        self.help_about = make("&About musicgen", None, "Version, models shipped and licences")
        self.view_group = QActionGroup(parent)
        for action in self.view_modes.values():
            self.view_group.addAction(action)
        self.stop.setEnabled(False)
        self.recent_menu = QMenu("Open &recent", parent)

    def build_menus(self, window) -> None:  # a QMainWindow
        bar = window.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open)
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(self.open_checkpoint)
        file_menu.addSeparator()
        file_menu.addAction(self.export)
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        model_menu = bar.addMenu("&Model")
        model_menu.addAction(self.train)
        model_menu.addAction(self.open_checkpoint)
        gen_menu = bar.addMenu("&Generate")
        gen_menu.addAction(self.generate)
        gen_menu.addAction(self.stop)
        play_menu = bar.addMenu("&Playback")
        play_menu.addAction(self.play)
        play_menu.addAction(self.loop)
        play_menu.addSeparator()
        play_menu.addAction(self.refresh_midi_ports)
        view_menu = bar.addMenu("&View")
        for action in (self.zoom_in, self.zoom_out, self.zoom_fit, self.show_seed):
            view_menu.addAction(action)
        view_menu.addSeparator()
        for action in self.view_modes.values():
            view_menu.addAction(action)
        edit_menu = bar.addMenu("&Edit")
        for action in (self.undo, self.redo, self.regenerate):
            edit_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        for action in (self.help_getting_started, self.help_shortcuts, self.help_about):
            help_menu.addAction(action)

    def all(self) -> list[QAction]:
        """Every action declared here, in declaration order (the shortcut list reads them)."""
        return [value for value in vars(self).values() if isinstance(value, QAction)] + \
            list(self.view_modes.values())
