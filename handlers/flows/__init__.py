"""Importing this package registers every flow, command and button scope."""

from handlers import texts  # noqa: F401  (first: the catalogue entries flows use)
from handlers.flows import (  # noqa: F401
    also,
    bind,
    clarify,
    complaint,
    events,
    faq,
    fee,
    human,
    inform,
    notices,
    reminders,
    repair,
    smalltalk,
    status,
    ticket_buttons,
    visitor,
    withdraw,
)
from handlers.staff import actions, commands, event_forms, forms, notice_form, overdue, tasks, visitors  # noqa: F401
