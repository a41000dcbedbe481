"""Text of unknown encoding (ABC files, MIDI names and titles) decoded by detection.

Real files come as UTF-8 (with or without a BOM), Windows-1252 / Latin-1 (older European tune
books and sequencers), or a CJK double-byte encoding (GBK, Shift-JIS, Big5: Chinese and Japanese
sequencers). UTF-8 is tried first: it almost never decodes text in another encoding by accident.
A CJK encoding is taken only when every byte above ASCII comes in lead/trail pairs that decode to
CJK characters; otherwise Windows-1252 (Latin-1 for the five bytes it leaves undefined).
"""

from __future__ import annotations

__all__ = ["decode_text_bytes", "redecode_latin1"]

_CJK_ENCODINGS = ("shift_jis", "gb18030", "big5", "euc_kr")


def decode_text_bytes(data: bytes) -> str:
    """`data` as text, its encoding detected (see the module docstring); never raises."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    cjk = _as_cjk(data)
    if cjk is not None:
        return cjk
    return "".join(_cp1252(data[i:i + 1]) for i in range(len(data))) if _has_undefined(data) \
        else data.decode("cp1252")


def redecode_latin1(text: str) -> str:
    """Text a library decoded as Latin-1 (mido's MIDI meta text), decoded again by detection."""
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return text  # not Latin-1 decoded bytes: leave it
    return decode_text_bytes(raw) if any(b > 0x7F for b in raw) else text


def _as_cjk(data: bytes) -> str | None:
    high = [b for b in data if b > 0x7F]
    if len(high) < 2:
        return None
    for encoding in _CJK_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        wide = [c for c in text if ord(c) > 0x7F]
        if encoding == "shift_jis" and not any(0x3040 <= ord(c) <= 0x30FF for c in wide):
            continue  # Japanese text has kana; without them the bytes are more likely Chinese
        if wide and all(_is_cjk(c) for c in wide) and len(wide) * 2 >= len(high) * 0.9:
            return text
    return None


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (0x3000 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF
            or 0xFF00 <= code <= 0xFFEF)


def _has_undefined(data: bytes) -> bool:
    return any(b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) for b in data)


def _cp1252(byte: bytes) -> str:
    try:
        return byte.decode("cp1252")
    except UnicodeDecodeError:
        return byte.decode("latin-1")
