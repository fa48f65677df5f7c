"""Importing this package registers every flow, command and button scope."""

from handlers import texts  # noqa: F401  (first: the catalogue entries flows use)
from handlers.flows import bind, complaint, events, faq, fee, repair, smalltalk, status, visitor  # noqa: F401
from handlers.staff import actions, commands, forms, overdue, tasks, visitors  # noqa: F401
