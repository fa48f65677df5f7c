"""Template messages (模板消息) for notifications outside the customer-service window.

GUANJIA_WECHAT_TEMPLATES maps a notification kind to a template from the category library:
either just its id (the notification's first line goes into `thing1`), or
{"id": "...", "fields": {"thing1": "{text}", "character_string2": "#{ticket_number}"}, "url": "..."}
whose values are formatted with the notification's params plus `text` (its first line).
Since 2023-05-04 every field is ≤ 20 characters without line breaks (B2); longer values are cut.

A notice's template message also links to the notice's public page (`link`, which wins over the
configured "url"): its fields cannot hold the text, the page shows all of it. Notice fields may use
{title}, {category_label}, {expires} (local time, "" without expiry) and {text}.
"""

from __future__ import annotations

import re
from typing import Any

from bot.wechat.limits import TEMPLATE_DEFAULT_MAX_CHARS, TEMPLATE_FIELD_MAX_CHARS

_FIELD_TYPE = re.compile(r"^([a-z_]+?)\d*$")


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def field_limit(name: str) -> int:
    match = _FIELD_TYPE.match(name)
    return TEMPLATE_FIELD_MAX_CHARS.get(match.group(1) if match else "", TEMPLATE_DEFAULT_MAX_CHARS)


def fit(name: str, value: str) -> str:
    flat = " ".join(str(value).split())  # no line breaks
    limit = min(field_limit(name), TEMPLATE_DEFAULT_MAX_CHARS)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def build(spec: str | dict[str, Any], text: str, params: dict[str, Any], link: str = ""
          ) -> tuple[str, dict[str, Any], str]:
    """(template id, data, url) for one notification; `link` is the url when given."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if isinstance(spec, str):
        template_id, fields, url = spec, {"thing1": "{text}"}, ""
    else:
        template_id, fields, url = str(spec.get("id", "")), dict(spec.get("fields") or {}), str(spec.get("url", ""))
    values = _Blank({k: v for k, v in params.items() if not k.startswith("_")}, text=first_line)
    data = {}
    for name, pattern in fields.items():
        try:
            value = str(pattern).format_map(values)
        except (ValueError, IndexError, AttributeError):
            value = str(pattern)
        data[name] = {"value": fit(name, value)}
    return template_id, data, link or url
