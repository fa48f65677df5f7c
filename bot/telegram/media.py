"""Photos, documents, locations and voice of a message -> InboundAttachments; files downloaded under media_dir."""

from __future__ import annotations

import logging
import mimetypes
import re
from pathlib import Path

from telegram import Bot, Message
from telegram.error import TelegramError

from bot.telegram import limits
from bot.telegram.inbound import location_of
from handlers.messages import InboundAttachment

log = logging.getLogger("guanjia.telegram")
SUBDIR = "tg"
URL_PREFIX = f"/media/{SUBDIR}/"
_SAFE = re.compile(r"[^A-Za-z0-9_-]")
ALLOWED_DOCUMENT_TYPES = ("image/", "application/pdf", "video/")


async def attachments_of(message: Message, bot: Bot, media_dir: Path) -> tuple[InboundAttachment, ...]:
    out: list[InboundAttachment] = []
    if message.photo:
        biggest = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        stored = await _download(bot, biggest.file_id, biggest.file_unique_id, biggest.file_size, ".jpg", media_dir)
        if stored:
            out.append(InboundAttachment("photo", url=stored, content_type="image/jpeg"))
    document = message.document
    if document is not None and (document.mime_type or "").startswith(ALLOWED_DOCUMENT_TYPES):
        mime = document.mime_type or "application/octet-stream"
        ext = Path(document.file_name or "").suffix.lower()[:8] or mimetypes.guess_extension(mime) or ".bin"
        stored = await _download(bot, document.file_id, document.file_unique_id, document.file_size,
                                 "." + _SAFE.sub("", ext.lstrip(".")), media_dir)
        if stored:
            kind = "photo" if mime.startswith("image/") else "document"
            out.append(InboundAttachment(kind, url=stored, content_type=mime))
    if (place := location_of(message)) is not None:
        out.append(place)
    if message.voice is not None or message.audio is not None or message.video_note is not None:
        out.append(InboundAttachment("voice"))
    return tuple(out)


async def _download(bot: Bot, file_id: str, unique_id: str, size: int | None, ext: str,
                    media_dir: Path) -> str | None:
    """Fetch one file (getFile, then the file URL); None when it is too big or Telegram fails."""
    if size is not None and size > limits.MAX_DOWNLOAD_BYTES:
        log.info("telegram file %s too big to download (%d bytes)", unique_id, size)
        return None
    name = f"{_SAFE.sub('', unique_id)[:64] or 'file'}{ext}"
    target = Path(media_dir) / SUBDIR / name
    try:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tg_file = await bot.get_file(file_id)
            await tg_file.download_to_drive(target)
    except TelegramError as err:
        log.warning("telegram file %s not downloaded: %s", unique_id, type(err).__name__)
        return None
    return URL_PREFIX + name
