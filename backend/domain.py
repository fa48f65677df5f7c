"""Vocabulary of the domain: kinds, statuses, departments, roles and the legal moves."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    REPAIR = "repair"
    EMERGENCY = "emergency"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    INQUIRY = "inquiry"


class Status(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({Status.NEW, Status.ACCEPTED, Status.IN_PROGRESS, Status.REOPENED})
# Resolved tickets wait for the resident; they are not "open work" but not finished either.
UNFINISHED_STATUSES = OPEN_STATUSES | {Status.RESOLVED}


class Department(StrEnum):
    MANAGEMENT = "management"
    CUSTOMER_SERVICE = "customer_service"
    SECURITY = "security"
    ENGINEERING = "engineering"
    ENVIRONMENT = "environment"


class Role(StrEnum):
    ADMIN = "admin"  # company admin: every community of the company (the console's cross-community view)
    MANAGER = "manager"  # project manager
    SUPERVISOR = "supervisor"
    AGENT = "agent"


class SatisfactionArea(StrEnum):
    SAFETY = "safety"
    ENVIRONMENT = "environment"  # environment and facilities
    COMMUNITY = "community"  # community life and communication


SATISFACTION_TARGETS = {
    SatisfactionArea.SAFETY: 0.95,
    SatisfactionArea.ENVIRONMENT: 0.90,
    SatisfactionArea.COMMUNITY: 0.90,
}


class Action(StrEnum):
    CREATE = "create"
    ACCEPT = "accept"
    TRANSFER = "transfer"
    START = "start"
    NOTE = "note"
    PHOTO = "photo"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    RATE = "rate"
    CANCEL = "cancel"
    CLOSE = "close"
    REMIND = "remind"
    ESCALATE = "escalate"
    CHASE = "chase"


# status before -> statuses an action may leave from, and where it goes (None = unchanged)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.ACCEPT: (frozenset({Status.NEW, Status.ACCEPTED, Status.REOPENED}), Status.ACCEPTED),
    Action.TRANSFER: (frozenset(OPEN_STATUSES), None),
    Action.START: (frozenset({Status.ACCEPTED, Status.REOPENED}), Status.IN_PROGRESS),
    Action.RESOLVE: (frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.REOPENED}), Status.RESOLVED),
    Action.CONFIRM: (frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.REOPEN: (frozenset({Status.RESOLVED, Status.CLOSED}), Status.REOPENED),
    Action.RATE: (frozenset({Status.RESOLVED, Status.CLOSED}), None),
    Action.CANCEL: (frozenset(OPEN_STATUSES), Status.CANCELLED),
    Action.CLOSE: (frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.NOTE: (frozenset(UNFINISHED_STATUSES), None),
    Action.PHOTO: (frozenset(UNFINISHED_STATUSES), None),
    Action.CHASE: (frozenset(OPEN_STATUSES), None),
}
