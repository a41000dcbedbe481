"""Verovio's SVG rewritten so that QtSvg (an SVG Tiny 1.2 renderer) draws all of it.

QtSvg draws a verovio page blank or wrong in four ways, each rewritten here:

- the page is a nested ``<svg viewBox>`` (QtSvg skips nested documents): it becomes a ``<g>``
  whose transform maps the viewBox onto the outer page;
- the strokes take their colour from a ``<style>`` rule (``stroke: currentColor``) and
  placeholders are hidden by one (``visibility: hidden``): the rules are applied to the elements
  (explicit ``stroke``/``fill``; placeholders removed; bold and italic text) and the sheet dropped;
- text is split into ``<tspan>`` runs: each ``<text>`` gets its runs' characters and attributes;
- colour: ``colours`` maps element ids (a note's ``<g>``) to a colour its whole subtree is drawn
  in, so seed and continuation notes are told apart in the engraving itself.

One pass over the tags (verovio's output is regular machine-written XML): a 64-bar page takes a
few milliseconds, where a parse and a re-serialisation with xml.etree took 80 ms. Qt-free.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["attributes_of", "simplify_svg"]

_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)([^>]*?)(/?)>|<!--.*?-->|<\?.*?\?>|[^<]+", re.DOTALL)
_ATTRIBUTE = re.compile(r'([A-Za-z_][\w:.-]*)="([^"]*)"')
_SHAPES = {"path", "ellipse", "polygon", "polyline", "rect", "circle", "line"}
_BOLD = {"ending", "fing", "reh", "tempo"}
_ITALIC = {"dir", "dynam", "mNum"}
_TEXT_ATTRIBUTES = ("x", "y", "font-size", "font-style", "font-weight", "font-family",
                    "text-anchor")


def attributes_of(text: str) -> dict[str, str]:
    """The ``name="value"`` attributes of a tag's attribute text."""
    return dict(_ATTRIBUTE.findall(text))


def _number(text: str | None) -> float:
    match = re.match(r"\s*([-+]?[0-9]*\.?[0-9]+)", text or "")
    return float(match.group(1)) if match else 0.0


@dataclass
class _Frame:
    name: str  # the element as written out ("g" for a flattened <svg>)
    colour: str
    skip: bool = False  # inside <style> or a placeholder: nothing written
    in_defs: bool = False


@dataclass
class _Text:
    """A ``<text>`` being collected: its attributes (first run's fill in) and characters."""

    attributes: dict[str, str]
    depth: int
    characters: list[str] = field(default_factory=list)


def simplify_svg(svg_text: str, colours: Mapping[str, str] | None = None,
                 default_colour: str = "#000000") -> str:
    """The same drawing in SVG that QtSvg renders in full (see the module docstring)."""
    return _Rewriter(dict(colours or {}), default_colour).run(svg_text)


class _Rewriter:
    def __init__(self, colours: dict[str, str], default_colour: str) -> None:
        self.colours, self.default = colours, default_colour
        self.out: list[str] = []
        self.stack: list[_Frame] = []
        self.size = (0.0, 0.0)
        self.text: _Text | None = None

    def run(self, svg_text: str) -> str:
        for match in _TAG.finditer(svg_text):
            closing, name, attributes, self_closing = match.groups()
            if name is None:
                self._characters(match.group(0))
            elif closing:
                self._close()
            else:
                self._open(name, attributes, bool(self_closing))
        return "".join(self.out)

    def _characters(self, chunk: str) -> None:
        if self.text is not None:
            self.text.characters.append(chunk)
        elif not (self.stack and self.stack[-1].skip):
            self.out.append(chunk)

    def _open(self, name: str, raw: str, self_closing: bool) -> None:
        parent = self.stack[-1] if self.stack else _Frame("", self.default)
        if self.text is not None:  # a <tspan>: its attributes fill in the text's missing ones
            for key, value in attributes_of(raw).items():
                current = self.text.attributes.get(key)
                unset = current is None or (key == "font-size" and _number(current) == 0)
                if key in _TEXT_ATTRIBUTES and unset:
                    self.text.attributes[key] = value  # verovio sizes text on its runs
            if not self_closing:
                self.stack.append(_Frame(name, parent.colour, skip=True))
            return
        if name == "text" and self_closing:
            return  # an empty text (verovio writes them for tempo marks): nothing to draw
        attributes = attributes_of(raw) if ("=" in raw) else {}
        classes = set(attributes.get("class", "").split())
        skip = parent.skip or name == "style" or "placeholder" in classes
        frame = _Frame(name, parent.colour, skip, parent.in_defs or name == "defs")
        if not skip:
            raw = self._rewrite(name, raw, attributes, classes, frame)
        if frame.name == "text" and not skip:
            self.text = _Text(attributes_of(raw), len(self.stack))
        elif not skip:
            self.out.append(f"<{frame.name}{raw}{'/' if self_closing else ''}>")
        if not self_closing:
            self.stack.append(frame)

    def _rewrite(self, name: str, raw: str, attributes: dict[str, str], classes: set[str],
                 frame: _Frame) -> str:
        """The tag's attribute text, rewritten; updates ``frame`` (its colour, its name)."""
        if name == "svg" and self.stack:
            return self._flatten(attributes, frame)
        if name == "svg":
            self.size = (_number(attributes.get("width")), _number(attributes.get("height")))
            frame.colour = attributes.get("color", frame.colour)
            return raw
        if frame.in_defs:
            return raw  # glyph outlines: coloured by the <use> that draws them
        colour = self.colours.get(attributes.get("id", ""), attributes.get("color", frame.colour))
        frame.colour = frame.colour if colour == "currentColor" else colour
        raw = raw.replace('"currentColor"', f'"{frame.colour}"')
        if name in _SHAPES:
            raw += "" if "stroke=" in raw else f' stroke="{frame.colour}"'
            raw += "" if "fill=" in raw else f' fill="{frame.colour}"'
        elif name in ("use", "text") or (name == "g" and attributes.get("id") in self.colours):
            raw += f' fill="{frame.colour}"' if "fill=" not in raw else ""
        if classes & _BOLD:
            raw += ' font-weight="bold"'
        elif classes & _ITALIC:
            raw += ' font-style="italic"'
        return raw

    def _flatten(self, attributes: dict[str, str], frame: _Frame) -> str:
        """A nested ``<svg viewBox>`` as a ``<g>`` that scales the box onto the outer page."""
        frame.name = "g"
        frame.colour = attributes.get("color", frame.colour)
        box = [float(v) for v in re.split(r"[\s,]+", attributes.get("viewBox", "").strip()) if v]
        raw = ""
        if len(box) == 4 and box[2] > 0 and box[3] > 0:
            sx, sy = (self.size[0] or box[2]) / box[2], (self.size[1] or box[3]) / box[3]
            move = f" translate({-box[0]:g}, {-box[1]:g})" if box[0] or box[1] else ""
            raw = f' transform="scale({sx:.6g}, {sy:.6g}){move}"'
        for key in ("font-family", "class"):
            if key in attributes:
                raw += f' {key}="{attributes[key]}"'
        return raw

    def _close(self) -> None:
        frame = self.stack.pop()
        text = self.text
        if text is not None and len(self.stack) == text.depth:
            self.text = None
            characters = "".join(text.characters).strip()
            if characters and _number(text.attributes.get("font-size", "1")) > 0:
                text.attributes.setdefault("fill", frame.colour)
                attributes = "".join(f' {k}="{v}"' for k, v in text.attributes.items())
                self.out.append(f"<text{attributes}>{characters}</text>")
            return
        if not frame.skip and text is None:
            self.out.append(f"</{frame.name}>")
