"""Offset-preserving text normalisation and Chinese numeral helpers.

Every transformation here maps one character to exactly one character, so an
offset into the normalised text is the same offset into the original text.
"""

from __future__ import annotations

import re

_CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def _build_table() -> dict[int, int]:
    table: dict[int, int] = {}
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        table[code] = code - 0xFEE0
    table[0x3000] = 0x20  # ideographic space
    table[0x00A0] = 0x20
    for ch in "\t\n\r\x0b\x0c":
        table[ord(ch)] = 0x20
    for ch in "－—–―‐":
        table[ord(ch)] = ord("-")
    table[ord("﹟")] = ord("#")
    table[ord("・")] = ord("·")
    table[ord("•")] = ord("·")
    table[ord("．")] = ord(".")
    table[ord("：")] = ord(":")
    return table


_TABLE = _build_table()


def normalize(text: str) -> str:
    """Full-width -> ASCII, dashes unified, control characters -> space. Length-preserving."""
    out = text.translate(_TABLE)
    return _CTRL_RE.sub(" ", out)


def lower_ascii(text: str) -> str:
    """Lower-case ASCII letters only (str.lower() can change the length of some scripts)."""
    return text.translate(_LOWER)


_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}

CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
# character classes for regexes
CN_DIGIT_CLASS = "零〇一二两三四五六七八九幺"
NUM_CLASS = "0-9" + CN_DIGIT_CLASS + "十百"


def digits_value(s: str) -> str:
    """'一五零二' -> '1502', '十二' -> '12', '0903' -> '0903', '幺零零一' -> '1001'."""
    s = normalize(s)
    if any(c in CN_UNITS for c in s):
        return str(cn_int(s))
    out = []
    for c in s:
        if c.isascii() and c.isdigit():
            out.append(c)
        elif c in CN_DIGITS:
            out.append(str(CN_DIGITS[c]))
    return "".join(out)


def cn_int(s: str) -> int:
    """Positional Chinese numeral (up to thousands) or ASCII digits -> int."""
    s = normalize(s)
    if s.isascii() and s.isdigit():
        return int(s)
    if not any(c in CN_UNITS for c in s):
        v = digits_value(s)
        return int(v) if v else 0
    total = 0
    cur = 0
    for c in s:
        if c in CN_DIGITS:
            cur = CN_DIGITS[c]
        elif c.isascii() and c.isdigit():
            cur = cur * 10 + int(c)
        elif c in CN_UNITS:
            total += (cur or 1) * CN_UNITS[c]
            cur = 0
    return total + cur
