"""Callback XML, parsed safely: a size cap first, then defusedxml with no DTD, entities or external references."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from bot.wechat.limits import MAX_CALLBACK_BYTES


class BadXml(ValueError):
    """The body is too large, not XML, or carries a DTD / entity (never expanded, never fetched)."""


def parse(body: bytes | str, limit: int = MAX_CALLBACK_BYTES) -> dict[str, object]:
    """The <xml> document as a dict: text children as str, nested elements as dicts."""
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > limit:
        raise BadXml("body too large")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:
        raise BadXml(type(exc).__name__) from exc
    if root.tag != "xml":
        raise BadXml("root is not <xml>")
    return _to_dict(root)


def _to_dict(element: Element) -> dict[str, object]:
    out: dict[str, object] = {}
    for child in element:
        out[child.tag] = _to_dict(child) if len(child) else (child.text or "")
    return out


def checked(body: bytes | str, limit: int = MAX_CALLBACK_BYTES) -> str:
    """The body as text after the safety check, for wechatpy's own parser (xmltodict)."""
    parse(body, limit)
    return body.decode("utf-8") if isinstance(body, bytes) else body
