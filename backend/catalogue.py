"""The message catalogue: every text a user reads, Simplified Chinese first, English second.

Keys are stable identifiers (also used as notification kinds in the outbox).
Other layers extend the catalogue with `register()` so there is still one lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Entry = tuple[str, str]  # (zh, en)

MESSAGES: dict[str, Entry] = {
    # Errors raised by services
    "error.not_found": ("找不到{what}。", "{what} not found."),
    "error.forbidden": ("您没有权限执行此操作。", "You are not allowed to do that."),
    "error.illegal_move": (
        "工单 #{number} 当前状态为「{status}」，不能{action}。",
        "Ticket #{number} is {status_en}; it cannot be {action_en}.",
    ),
    "error.already_taken": (
        "工单 #{number} 已由 {name} 接单。",
        "Ticket #{number} has already been accepted by {name}.",
    ),
    "error.invalid": ("输入有误：{detail}", "Invalid input: {detail}"),
    "error.rating_range": ("评分须为 1 到 5 分。", "A rating must be from 1 to 5."),
    "error.already_rated": ("工单 #{number} 已经评价过了。", "Ticket #{number} has already been rated."),
    "error.chase_too_soon": (
        "您刚催过工单 #{number}，负责人已收到提醒，请{minutes}分钟后再催。",
        "You chased ticket #{number} recently; please wait {minutes} minutes before chasing again.",
    ),
    # Ticket status names
    "status.new": ("待受理", "new"),
    "status.accepted": ("已受理", "accepted"),
    "status.in_progress": ("处理中", "in progress"),
    "status.resolved": ("已解决待确认", "resolved"),
    "status.reopened": ("已重新打开", "reopened"),
    "status.closed": ("已关闭", "closed"),
    "status.cancelled": ("已取消", "cancelled"),
    # Action names (for error messages)
    "action.accept": ("接单", "accepted"),
    "action.transfer": ("转派", "transferred"),
    "action.start": ("开始处理", "started"),
    "action.resolve": ("办结", "resolved"),
    "action.confirm": ("确认解决", "confirmed"),
    "action.reopen": ("重新打开", "reopened"),
    "action.rate": ("评价", "rated"),
    "action.cancel": ("取消", "cancelled"),
    "action.close": ("关闭", "closed"),
    "action.note": ("添加备注", "annotated"),
    "action.photo": ("添加照片", "given a photo"),
    "action.chase": ("催办", "chased"),
    # Kinds
    "kind.repair": ("报修", "repair"),
    "kind.emergency": ("紧急", "emergency"),
    "kind.complaint": ("投诉", "complaint"),
    "kind.suggestion": ("建议", "suggestion"),
    "kind.inquiry": ("咨询", "inquiry"),
    # Notifications written to the outbox
    "ticket.new_task": (
        "【新工单 #{number}】{kind_zh}·{category_zh}\n地点：{location}\n内容：{description}\n请在 {respond_due} 前响应。",
        "[New ticket #{number}] {kind_en} · {category_en}\nWhere: {location}\nWhat: {description}\n"
        "Respond by {respond_due}.",
    ),
    "ticket.emergency_alert": (
        "🚨【紧急工单 #{number}】{description}\n地点：{location}\n请立即响应（15分钟内）！",
        "🚨 [EMERGENCY #{number}] {description}\nWhere: {location}\nRespond now (within 15 minutes)!",
    ),
    "ticket.you_own": (
        "您是工单 #{number} 的首问负责人：{description}（{location}）",
        "You are the first responsible person for ticket #{number}: {description} ({location})",
    ),
    "ticket.created_for_you": (
        "已为您登记工单 #{number}（{category_zh}），我们将在 {respond_due} 前响应。",
        "Ticket #{number} ({category_en}) was registered for you; we will respond by {respond_due}.",
    ),
    "ticket.accepted": (
        "您的工单 #{number} 已受理，处理人：{assignee}，负责人：{owner}。",
        "Your ticket #{number} was accepted. Handled by {assignee}; responsible: {owner}.",
    ),
    "ticket.accepted_owner": (
        "工单 #{number} 已由 {assignee} 接单。", "Ticket #{number} was accepted by {assignee}.",
    ),
    "ticket.transferred": (
        "您的工单 #{number} 已转交 {assignee} 处理，负责人仍为 {owner}。",
        "Your ticket #{number} was handed to {assignee}; {owner} remains responsible.",
    ),
    "ticket.assigned_to_you": (
        "工单 #{number} 已转派给您：{description}（{location}）。{note}",
        "Ticket #{number} was assigned to you: {description} ({location}). {note}",
    ),
    "ticket.started": ("工单 #{number} 已开始处理（{assignee}）。", "Work on ticket #{number} has started ({assignee})."),
    "ticket.resolved": (
        "工单 #{number} 已处理完毕：{note}\n问题解决了吗？请确认并为本次服务打分（1–5分）。",
        "Ticket #{number} is resolved: {note}\nIs it fixed? Please confirm and rate the service (1–5).",
    ),
    "ticket.reopened": (
        "居民反馈工单 #{number} 未解决，已重新打开：{note}",
        "The resident reports ticket #{number} is not fixed; it is reopened: {note}",
    ),
    "ticket.reopened_by_staff": (
        "工单 #{number} 已由 {who} 重新打开：{note}", "Ticket #{number} was reopened by {who}: {note}",
    ),
    "ticket.reopened_for_you": (
        "您的工单 #{number} 已重新打开，我们会继续处理。{note}",
        "Your ticket #{number} was reopened; we are working on it again. {note}",
    ),
    "ticket.rated": (
        "工单 #{number} 获得评价 {rating} 分。{comment}", "Ticket #{number} was rated {rating}/5. {comment}",
    ),
    "ticket.cancelled": ("工单 #{number} 已取消。{note}", "Ticket #{number} was cancelled. {note}"),
    "ticket.closed": ("工单 #{number} 已关闭，感谢您的反馈。", "Ticket #{number} is closed. Thank you."),
    "ticket.note_from_staff": ("工单 #{number} 有新进展：{note}", "Update on ticket #{number}: {note}"),
    "ticket.note_from_resident": ("居民补充了工单 #{number}：{note}", "The resident added to ticket #{number}: {note}"),
    "ticket.remind_due": (
        "⏰ 工单 #{number} 将于 {due} 到期（{deadline_zh}），请尽快处理。",
        "⏰ Ticket #{number} is due at {due} ({deadline_en}); please act soon.",
    ),
    "ticket.overdue_owner": (
        "⚠️ 工单 #{number} 已超时（{deadline_zh}，期限 {due}），请立即处理。",
        "⚠️ Ticket #{number} is overdue ({deadline_en}, due {due}); act now.",
    ),
    "ticket.escalated": (
        "⚠️ 升级提醒：工单 #{number} 超时未{deadline_zh}（期限 {due}），负责人：{owner}。请督办。",
        "⚠️ Escalation: ticket #{number} missed its {deadline_en} deadline ({due}); responsible: {owner}. "
        "Please follow up.",
    ),
    "ticket.chased": (
        "居民催办工单 #{number}（{status_zh}），请尽快处理并回复。",
        "The resident chased ticket #{number} ({status_en}); please act and reply.",
    ),
    "ticket.auto_closed": (
        "工单 #{number} 办结后 {days} 天未收到反馈，已自动关闭。如仍有问题请告诉我们。",
        "Ticket #{number} was closed automatically {days} days after it was resolved. Tell us if it is not fixed.",
    ),
    "deadline.respond": ("响应", "response"),
    "deadline.resolve": ("解决", "resolution"),
    "nobody": ("待定", "not yet assigned"),
}


def register(entries: Mapping[str, Entry]) -> None:
    """Add entries from another module; a duplicate key is a programming error."""
    clash = set(entries) & set(MESSAGES)
    if clash:
        raise KeyError(f"catalogue keys defined twice: {sorted(clash)}")
    MESSAGES.update(entries)


class _Default(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render(key: str, lang: str = "zh", /, **params: Any) -> str:
    """The text of `key` in `lang` ("zh", "en" or "both": Chinese then English)."""
    zh, en = MESSAGES[key]
    values = _Default(params)
    if lang == "en":
        return en.format_map(values)
    if lang == "both":
        return f"{zh.format_map(values)}\n{en.format_map(values)}"
    return zh.format_map(values)


def name(key: str, lang: str = "zh") -> str:
    """A short label (status, kind, action) from the catalogue."""
    zh, en = MESSAGES[key]
    return en if lang == "en" else zh


register({
    "dept.management": ("项目管理处", "management office"),
    "dept.customer_service": ("客服部", "customer service"),
    "dept.security": ("秩序维护部", "security"),
    "dept.engineering": ("工程部", "engineering"),
    "dept.environment": ("环境部", "environment"),
})


register({
    "bind.request_staff": (
        "【绑定申请 #{request_id}】{name} 申请绑定 {household}，手机 {phone}（与登记不符），请核实。",
        "[Binding request #{request_id}] {name} asks to bind {household}, phone {phone} (not registered). "
        "Please verify.",
    ),
    "bind.approved": ("您绑定 {household} 的申请已通过。", "Your request to bind {household} was approved."),
    "bind.rejected": (
        "您绑定 {household} 的申请未通过，如有疑问请联系物业客服。",
        "Your request to bind {household} was declined; please contact customer service.",
    ),
    "bind.already_decided": ("该申请已处理（{status}）。", "This request was already decided ({status})."),
})
