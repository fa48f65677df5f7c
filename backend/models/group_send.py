"""WeCom customer-group sends (企业群发 to 客户群): one task per (notice, group owner), confirmed by the owner.

A task is created with externalcontact/add_msg_template for some of one owner's groups; the owner then
confirms it in the WeCom client, and the worker polls for the result. The notice's delivery rows of those
groups carry the task's msgid (external_id) and say `via='owner_confirm'` until the poller records the
outcome. See bot/wecom/group_send.py and docs/broadcast.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, pk


class GroupSendTask(Base):
    __tablename__ = "group_send_task"
    __table_args__ = (
        # One task per notice, owner and part (a part holds at most 2000 groups): inserting the row is the
        # claim, so two workers never create two tasks for the same groups.
        UniqueConstraint("notice_id", "owner_id", "part"),
        Index("ix_group_send_task_due", "status", "next_check_at"),
    )

    id: Mapped[int] = pk()
    notice_id: Mapped[int] = mapped_column(BigId, ForeignKey("notice.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # wecom_customer
    owner_id: Mapped[str] = mapped_column(String(64))  # the sender: the groups' owner userid
    part: Mapped[int] = mapped_column(default=0)
    # creating (claimed, platform call under way) | waiting (for the owner) | done (every chat final) |
    # refused (the platform refused the task) | expired (stopped: the owner did not confirm in time)
    status: Mapped[str] = mapped_column(String(12), default="creating")
    chat_ids: Mapped[list[Any]] = mapped_column(default=list)
    # chat id -> its final outcome {"status": sent | failed | unreachable, "error", "at"}: kept here too, so a
    # delivery row of the task that is recorded after the poller saw the result still gets it
    results: Mapped[dict[str, Any]] = mapped_column(default=dict)
    msgid: Mapped[str] = mapped_column(String(100), default="")
    error: Mapped[str] = mapped_column(String(300), default="")
    claimed_until: Mapped[datetime | None]  # while 'creating'
    created_at: Mapped[datetime]
    next_check_at: Mapped[datetime | None]  # while 'waiting'
    give_up_at: Mapped[datetime | None]  # stop waiting for the owner then
