"""The emulator's sense of time.

Reply tokens expire after a minute, retry keys after a day and the Messenger window
after 24 hours or 7 days. Tests cannot wait that long, so the emulator reads time
from a clock that can be moved forward. The same clock serves the live chat page:
there it follows the wall clock plus whatever offset was added with ``advance``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class SandboxClock:
    """Timezone-aware UTC time that can only move forward on request.

    With ``start`` the clock is frozen at that instant and moves only by
    ``advance``; without it the clock follows the system time plus the total
    advanced so far.
    """

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware start time")
        self._frozen = start.astimezone(timezone.utc) if start is not None else None
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            base = self._frozen if self._frozen is not None else datetime.now(timezone.utc)
            return base + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move time forward (never back) and return the new now."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def now_ms(self) -> int:
        """Milliseconds since the epoch, the unit both platforms put in webhooks."""
        return int(self.now().timestamp() * 1000)
