"""The python-telegram-bot handlers, one per file; `register` adds them to an Application in order."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.telegram.updates.button import on_button
from bot.telegram.updates.edited import on_edited
from bot.telegram.updates.errors import on_error
from bot.telegram.updates.group_message import on_group_message
from bot.telegram.updates.membership import on_membership
from bot.telegram.updates.migration import on_migration
from bot.telegram.updates.private_message import on_private_message
from bot.telegram.updates.register_group import on_register_group

CONTENT = (filters.TEXT | filters.PHOTO | filters.Document.ALL | filters.LOCATION | filters.VENUE
           | filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE)


def register(application: Application) -> None:  # type: ignore[type-arg]
    groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    application.add_handler(ChatMemberHandler(on_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migration))
    application.add_handler(CommandHandler("register_group", on_register_group, filters=groups))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, on_edited))
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & CONTENT,
                                           on_private_message))
    application.add_handler(MessageHandler(groups & CONTENT, on_group_message))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
