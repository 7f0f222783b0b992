"""The scheduler's mail job: send what the outbox holds through SMTP_URL."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from forecasts.db import Database


def deliver(db: Database, *, now: datetime, settings: Mapping[str, Any]) -> list[str]:
    """Send the outbox's due messages; one line per message sent or failed."""
    return []  # TODO(#12): claims, sending, retries land here
