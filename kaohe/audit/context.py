"""Where the current request came from, for audit entries written deep in services."""

import contextvars

current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)
