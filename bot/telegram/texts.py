"""Telegram-only texts, added to the one message catalogue (Chinese first, English second)."""

from backend.catalogue import register

register({
    "tg.group_ticket": ("已登记工单 #{number}，详情请查看私聊。", "Ticket #{number} registered; details in our private chat."),
    "tg.group_private": ("已在私聊中回复您，请查看。", "I have answered you in our private chat."),
    "tg.group_start_private": (
        "请点击下方按钮与我私聊，我会在私聊中继续为您办理。",
        "Please tap the button below to chat with me privately; I'll continue there.",
    ),
    "tg.button_private": ("💬 私聊管家", "💬 Chat privately"),
    "tg.group_registered": ("本群已登记为{community}{purpose}。", "This group is now the {community} {purpose}."),
    "tg.purpose_owners": ("业主群（接收通知公告）", "owners' group (notices)"),
    "tg.purpose_department": ("{department}工作群（接收任务卡片）", "{department} work group (task cards)"),
    "tg.register_usage": (
        "用法：/register_group 工程部（工程部、安保部、环境部、客服部），或在业主群中只发送 /register_group。",
        "Usage: /register_group engineering (engineering, security, environment, customer_service); "
        "in the owners' group just /register_group.",
    ),
    "tg.register_denied": (
        "只有已绑定的项目经理或主管可以登记群组。请先私聊我发送 /bind 绑定码。",
        "Only a bound manager or supervisor can register a group. Send me /bind CODE in a private chat first.",
    ),
    "tg.group_hello": (
        "大家好，我是{community}物业管家。项目经理或主管请发送 /register_group 登记本群。",
        "Hello, I'm the {community} property assistant. A manager or supervisor, please send /register_group.",
    ),
    "tg.edited_ignored": (
        "修改后的消息我无法处理，请直接发送一条新消息。",
        "I can't act on edited messages; please send a new message instead.",
    ),
    "tg.taken_by": ("👷 处理人：{name}", "👷 Handled by: {name}"),
    "tg.continued": ("（续）", "(cont.)"),
})

register({
    "tg.cmd.start": ("开始使用 / 加入小区", "Start / join your community"),
    "tg.cmd.menu": ("服务菜单", "Service menu"),
    "tg.cmd.bind": ("绑定房屋或员工账号", "Bind your home or staff account"),
    "tg.cmd.status": ("我的工单进度", "My tickets"),
    "tg.cmd.cancel": ("取消当前事项", "Cancel what is in progress"),
    "tg.cmd.help": ("使用帮助", "Help"),
})
