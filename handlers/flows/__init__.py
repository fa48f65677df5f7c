"""Importing this package registers every flow, command and button scope."""

from handlers import texts  # noqa: F401  (first: the catalogue entries flows use)
from handlers.flows import bind, repair, smalltalk  # noqa: F401
from handlers.flows import visitor  # noqa: F401
from handlers.flows import fee  # noqa: F401
