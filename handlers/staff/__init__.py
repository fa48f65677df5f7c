"""Staff in chat: task cards and their buttons, text-command fallbacks, my tasks, overdue, visitors."""
