"""Conversation texts, added to the one message catalogue (Chinese first, English second)."""

from backend.catalogue import register

register({
    "chat.welcome": ("您好，欢迎使用{community}物业管家！", "Welcome to the {community} property assistant!"),
    "chat.need_community": (
        "您好！请先通过小区的二维码或链接进入，或发送「/start 小区代码」。",
        "Hello! Please join through your community's QR code or link, or send \"/start CODE\".",
    ),
    "chat.unknown_community": ("没有找到小区代码「{code}」，请核对后重试。", "No community with code \"{code}\"."),
    "chat.expired": (
        "上次的对话太久没有继续，已自动结束。需要时请重新告诉我。",
        "Our last conversation timed out and was closed. Tell me again whenever you need.",
    ),
    "chat.internal_error": (
        "抱歉，系统暂时出了点问题，请稍后再试。紧急情况请拨打24小时热线 {hotline}。",
        "Sorry, something went wrong. Please try again later. In an emergency call {hotline} (24 h).",
    ),
    "chat.reset": (
        "抱歉，刚才的事项处理出了问题，我已重新开始。请再告诉我一次您的需要，紧急情况请拨打 {hotline}。",
        "Sorry, that went wrong, so I have started over. Please tell me again what you need; "
        "in an emergency call {hotline}.",
    ),
    "chat.fallback": ("我在呢，有什么可以帮您？", "I'm here. How can I help?"),
    "chat.stale_button": (
        "这个按钮已失效，请重新选择或直接告诉我您的需要。",
        "That button is no longer valid. Please choose again or just tell me what you need.",
    ),
    "chat.cancelled": ("好的，已取消{topic}。", "OK, {topic} cancelled."),
    "chat.nothing_to_cancel": ("当前没有进行中的事项。", "There is nothing in progress."),
    "chat.resume": ("我们继续刚才的{topic}。", "Let's continue with the {topic}."),
    "chat.staff_only": ("该功能仅限物业员工使用。", "This is for property staff only."),
    "chat.voice_unsupported": (
        "抱歉，暂时听不了语音，请用文字告诉我。",
        "Sorry, I can't listen to voice messages yet; please type your message.",
    ),
    "chat.greet": ("您好！我是物业管家，可以帮您报修、投诉建议、登记访客、查询费用和工单进度。",
                   "Hello! I can take repairs, complaints and suggestions, register visitors, "
                   "and answer fee and ticket questions."),
    "chat.who_am_i": (
        "我是{community}的物业管家（智能助手），可以帮您报修、紧急求助、投诉建议、访客登记、查询费用和工单进度。需要真人时说「转人工」即可。",
        "I am the {community} property assistant (a bot). I take repairs, emergencies, complaints and suggestions, "
        "register visitors, and answer fee and ticket questions. Say \"human\" to reach a person.",
    ),
    "chat.thank": ("不客气，有需要随时找我！", "You're welcome; I'm here whenever you need."),
    "chat.goodbye": ("再见，祝您生活愉快！", "Goodbye, have a nice day!"),
    "chat.out_of_scope": (
        "抱歉，这个我帮不上忙。我可以帮您：报修、紧急求助、投诉建议、访客登记、费用查询、工单进度、小区活动。",
        "Sorry, I can't help with that. I can help with repairs, emergencies, complaints and suggestions, "
        "visitors, fees, ticket status and community events.",
    ),
    "chat.help": (
        "直接用一句话告诉我即可，例如：\n· 3号楼2单元1502厨房水管漏水\n· 明天下午我妈来，登记访客\n"
        "· 我家物业费还欠多少\n· 我的报修到哪一步了\n常用命令：/menu 菜单，/bind 绑定房屋，/status 我的工单，/cancel 取消",
        "Just tell me in a sentence, e.g. \"kitchen pipe leaking in 3-2-1502\", \"my mother visits tomorrow "
        "afternoon\", \"how much property fee do I owe\", \"where is my repair\".\n"
        "Commands: /menu, /bind, /status, /cancel",
    ),
    "chat.menu": ("请选择您要办理的事项：", "What would you like to do?"),
    "chat.affirm_idle": ("好的。还有什么可以帮您？", "OK. Anything else?"),
    "menu.repair": ("🔧 报修", "🔧 Repair"),
    "menu.emergency": ("🚨 紧急求助", "🚨 Emergency"),
    "menu.complaint": ("📣 投诉", "📣 Complaint"),
    "menu.suggestion": ("💡 建议", "💡 Suggestion"),
    "menu.visitor": ("🚪 访客登记", "🚪 Visitor"),
    "menu.fee": ("💰 费用查询", "💰 Fees"),
    "menu.status": ("📋 我的工单", "📋 My tickets"),
    "menu.events": ("🎉 社区活动", "🎉 Events"),
    "menu.bind": ("🏠 绑定房屋", "🏠 Bind my home"),
    "menu.human": ("🙋 转人工", "🙋 Talk to a person"),
    "menu.faq": ("💬 咨询", "💬 Question"),
    "menu.tasks": ("🧰 我的任务", "🧰 My tasks"),
    "menu.overdue": ("⏰ 超时工单", "⏰ Overdue"),
    "menu.visitors_today": ("👥 今日访客", "👥 Today's visitors"),
    "button.confirm": ("✅ 确认", "✅ Confirm"),
    "button.cancel": ("✖ 取消", "✖ Cancel"),
    "button.skip": ("跳过", "Skip"),
    "button.keep": ("不用了", "No, keep it"),
    "chat.kept": ("好的，保持不变。", "OK, nothing changed."),
    "button.own_home": ("🏠 我家里", "🏠 My home"),
    "button.public_area": ("🏢 公共区域", "🏢 Common area"),
    "flow.smalltalk": ("聊天", "chat"),
    "flow.bind": ("房屋绑定", "home binding"),
    "flow.repair": ("报修", "repair report"),
    "flow.emergency": ("紧急求助", "emergency"),
    "flow.complaint": ("投诉", "complaint"),
    "flow.suggestion": ("建议", "suggestion"),
    "flow.visitor": ("访客登记", "visitor registration"),
    "flow.fee": ("费用查询", "fee question"),
    "flow.status": ("工单查询", "ticket status"),
    "flow.faq": ("咨询", "question"),
    "flow.events": ("活动报名", "event sign-up"),
    "flow.staff": ("员工操作", "staff action"),
    "flow.human": ("人工客服", "talking to a person"),
    "flow.inform": ("补充信息", "details"),
    "flow.clarify": ("确认需求", "clarifying"),
})
