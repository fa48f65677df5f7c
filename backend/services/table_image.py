"""A small table drawn as a PNG for chats (the monthly shared-income disclosure), with a CJK font.

Chinese needs a CJK font: the first of the known Debian font files found is used (fonts-wqy-microhei,
fonts-wqy-zenhei, fonts-noto-cjk), else whatever fontconfig lists for Chinese. Without one there is no
image and the caller sends the text alone: Chinese drawn with a Latin font would be empty boxes.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
)
WIDTH = 720
PADDING = 28
ROW_HEIGHT = 40
TITLE_SIZE = 30
TEXT_SIZE = 22
INK, MUTED, LINE, BAND, PAPER = (33, 37, 41), (108, 117, 125), (222, 226, 230), (241, 243, 245), (255, 255, 255)


@dataclass(frozen=True)
class TableRow:
    label: str
    value: str
    strong: bool = False  # totals
    band: bool = False  # a section heading (收入, 支出)


@lru_cache(maxsize=1)
def cjk_font() -> Path | None:
    """A font file that has Chinese glyphs, or None."""
    for candidate in KNOWN_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=5,
                                check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    files = sorted(line.split(":", 1)[0].strip() for line in listed.splitlines() if line.strip())
    return Path(files[0]) if files else None


def render(title: str, rows: list[TableRow], footer: str = "", font_path: Path | None = None) -> bytes | None:
    """The table as PNG bytes; None when no CJK font (or no imaging library) is available."""
    font_path = font_path or cjk_font()
    if font_path is None:
        return None
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:  # pragma: no cover - a dependency; absent only in a broken install
        return None
    title_font = ImageFont.truetype(str(font_path), TITLE_SIZE)
    text_font = ImageFont.truetype(str(font_path), TEXT_SIZE)
    small_font = ImageFont.truetype(str(font_path), TEXT_SIZE - 4)
    footer_lines = _wrap(footer, small_font, WIDTH - 2 * PADDING) if footer else []
    height = PADDING + TITLE_SIZE + 24 + ROW_HEIGHT * len(rows) + 16 + 28 * len(footer_lines) + PADDING
    image = Image.new("RGB", (WIDTH, height), PAPER)
    draw = ImageDraw.Draw(image)
    draw.text((PADDING, PADDING), title, font=title_font, fill=INK)
    y = PADDING + TITLE_SIZE + 24
    for row in rows:
        if row.band:
            draw.rectangle((PADDING, y, WIDTH - PADDING, y + ROW_HEIGHT - 1), fill=BAND)
        draw.text((PADDING + 10, y + 8), row.label, font=text_font, fill=INK if row.strong or row.band else MUTED)
        if row.value:
            right = WIDTH - PADDING - 10 - draw.textlength(row.value, font=text_font)
            draw.text((right, y + 8), row.value, font=text_font, fill=INK)
        draw.line((PADDING, y + ROW_HEIGHT - 1, WIDTH - PADDING, y + ROW_HEIGHT - 1), fill=LINE)
        y += ROW_HEIGHT
    y += 16
    for line in footer_lines:
        draw.text((PADDING, y), line, font=small_font, fill=MUTED)
        y += 28
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _wrap(text: str, font, width: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Lines of `text` no wider than `width` (Chinese wraps between any two characters)."""
    lines, current = [], ""
    for char in text:
        if font.getlength(current + char) > width and current:
            lines.append(current)
            current = ""
        current += char
    if current:
        lines.append(current)
    return lines
