"""Failed sign-ins counted per (email, client), so a password cannot be guessed at speed.

Kept in memory: a restart forgets, and each web process of a scaled-out deployment counts on its own,
which still caps guessing at `limit` tries per `window` per process. Keyed by client as well as email
so that someone who knows an owner's address cannot lock the owner out from elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field

MAX_TRACKED = 10_000  # (email, client) pairs remembered at most; the oldest are forgotten first


@dataclass
class LoginThrottle:
    limit: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    _failures: dict[str, deque[dt.datetime]] = field(default_factory=dict)

    def wait_seconds(self, key: str, now: dt.datetime) -> float:
        """0 when `key` may try now; otherwise how long until its oldest counted failure ages out."""
        recent = self._recent(key, now)
        if len(recent) < self.limit:
            return 0.0
        return max(1.0, (recent[0] + self.window - now).total_seconds())

    def failed(self, key: str, now: dt.datetime) -> None:
        self._failures[key] = self._recent(key, now)
        self._failures[key].append(now)
        while len(self._failures) > MAX_TRACKED:
            self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: dt.datetime) -> deque[dt.datetime]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times
