"""All tables; importing this module registers them on Base.metadata."""

from backend.models.base import Base
from backend.models.billing import Bill, FeeRate, Payment
from backend.models.channel import ChannelMessage, ChannelQuota, ChannelToken, GroupChat, ProcessedUpdate
from backend.models.community import Building, Community, Household, HouseholdPhone, Unit
from backend.models.console import AuditEntry, ConsoleSession
from backend.models.counter import Counter
from backend.models.dialogue import DialogueState
from backend.models.disclosure import SharedIncomeLine
from backend.models.group_send import GroupSendTask
from backend.models.kpi import KpiDigest
from backend.models.notice import Notice, NoticeDelivery, NoticeMute
from backend.models.outbox import Delivery, Notification
from backend.models.people import ApiToken, ChatIdentity, InviteCode, Resident, Staff
from backend.models.resident_services import (
    ArrearsReminder,
    BindRequest,
    CommunityEvent,
    EventSignup,
    FaqEntry,
    VisitorPass,
)
from backend.models.ticket import Attachment, Ticket, TicketCategory, TicketEvent

__all__ = [
    "ApiToken",
    "ArrearsReminder",
    "Attachment",
    "AuditEntry",
    "Base",
    "Bill",
    "BindRequest",
    "Building",
    "ChannelMessage",
    "ChannelQuota",
    "ChannelToken",
    "ChatIdentity",
    "Community",
    "CommunityEvent",
    "ConsoleSession",
    "Counter",
    "Delivery",
    "DialogueState",
    "EventSignup",
    "FaqEntry",
    "FeeRate",
    "GroupChat",
    "GroupSendTask",
    "Household",
    "HouseholdPhone",
    "InviteCode",
    "KpiDigest",
    "Notice",
    "NoticeDelivery",
    "NoticeMute",
    "Notification",
    "Payment",
    "ProcessedUpdate",
    "Resident",
    "SharedIncomeLine",
    "Staff",
    "Ticket",
    "TicketCategory",
    "TicketEvent",
    "Unit",
    "VisitorPass",
]
