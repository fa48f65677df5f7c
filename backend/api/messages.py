"""Catalogue entries for what the REST API itself tells a client (auth, validation, limits)."""

from __future__ import annotations

from typing import Any

from backend.catalogue import register, render

register({
    "api.unauthorized": (
        "需要有效的访问令牌（请求头 Authorization: Bearer <令牌>）。",
        "A valid API token is required (header Authorization: Bearer <token>).",
    ),
    "api.staff_only": ("此操作需要员工本人的令牌，管理员令牌不能代替。", "This action needs a staff member's token, not the admin token."),
    "api.community_required": (
        "请用 ?community=小区代码 指明要操作的小区。",
        "Name the community to act on with ?community=CODE.",
    ),
    "api.validation": ("请求内容有误：{detail}", "Invalid request: {detail}"),
    "api.bad_data": ("数据无法保存，请检查输入的格式和长度。", "The data could not be stored; check its format and length."),
    "api.conflict": ("记录已存在或与现有记录冲突。", "The record already exists or conflicts with an existing one."),
    "api.body_too_large": ("请求内容过大（上限 {limit} 字节）。", "The request body is too large (limit {limit} bytes)."),
    "api.http_error": ("请求无法处理：{detail}", "The request could not be handled: {detail}"),
    "api.internal": ("服务器内部错误，请稍后再试。", "Internal server error; please try again later."),
    "api.database_down": ("数据库暂时无法连接。", "The database is unreachable."),
})


def error_body(key: str, **params: Any) -> dict[str, Any]:
    """The JSON every API error has: a stable key, the Chinese text, the English text."""
    return {"error": key, "message": render(key, "zh", **params), "message_en": render(key, "en", **params)}
