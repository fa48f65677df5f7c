"""Staff bind their chat account with the one-time code from `guanjia staff invite LOGIN`."""

from __future__ import annotations

from backend.catalogue import register
from backend.services.invites import InviteError, create_invite, password_url, redeem_invite
from handlers.context import Context

register({
    "staff.bound": ("绑定成功，{name}（{role}）。发送 /menu 查看任务菜单。",
                    "Bound as {name} ({role}). Send /menu for your tasks."),
    "staff.bound_console": ("绑定成功，{name}（{role}）。发送 /menu 查看任务菜单。\n设置办公台密码（一次性链接）：{url}",
                            "Bound as {name} ({role}). Send /menu for your tasks.\n"
                            "Set your console password (one-time link): {url}"),
    "staff.bind_failed": ("绑定码无效、已过期或已使用，请向管理员重新获取。",
                          "That code is unknown, expired or used; ask your manager for a new one."),
})


def redeem(ctx: Context, code: str) -> None:
    try:
        staff = redeem_invite(ctx.session, code, ctx.inbound.channel, ctx.inbound.sender_id, ctx.clock,
                              display_name=ctx.inbound.display_name)
    except InviteError:
        ctx.say("staff.bind_failed")
        return
    ctx.who.staff = staff
    if not staff.password_hash:  # no console password yet: the bind is the way to set one
        link = create_invite(ctx.session, staff, ctx.clock, ctx.settings, purpose="password")
        ctx.say("staff.bound_console", name=staff.name, role=staff.role, url=password_url(ctx.settings, link))
        return
    ctx.say("staff.bound", name=staff.name, role=staff.role)
