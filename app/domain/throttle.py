"""Failed sign-ins counted per (email, client), and per email from every client, so a password cannot be
guessed at speed.

This one is kept in memory, for the embedded default (one web process; a restart forgets). A scaled-out
deployment counts in Redis instead (app/adapters/login_attempts.py), so that N web processes do not
allow N times the tries. Keyed by client as well as email so that someone who knows an owner's address
cannot lock the owner out from elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field

MAX_TRACKED = 10_000  # (email, client) pairs remembered at most; the oldest are forgotten first
LIMIT = 5
WINDOW = dt.timedelta(minutes=15)
# Failures for one email from every client together: ten addresses' worth. Past it, only a browser that has
# signed in to the account before may still try (accounts.authenticate), so that a guesser with many
# addresses is held back without locking the owner out.
ACCOUNT_LIMIT = 50


@dataclass
class LoginThrottle:
    limit: int = LIMIT
    window: dt.timedelta = WINDOW
    _failures: dict[str, deque[dt.datetime]] = field(default_factory=dict)

    async def wait_seconds(self, key: str, now: dt.datetime) -> float:
        """0 when `key` may try now; otherwise how long until its oldest counted failure ages out."""
        recent = self._recent(key, now)
        if len(recent) < self.limit:
            return 0.0
        return max(1.0, (recent[0] + self.window - now).total_seconds())

    async def failed(self, key: str, now: dt.datetime) -> None:
        self._failures[key] = self._recent(key, now)
        self._failures[key].append(now)
        if len(self._failures) > MAX_TRACKED:
            self._forget_one(now)

    def _forget_one(self, now: dt.datetime) -> None:
        """Make room by the oldest key that is not held: forgetting a held one first let a guesser free an
        account by failing on ten thousand made-up addresses."""
        for key in list(self._failures):
            if len(self._recent(key, now)) < self.limit:  # _recent drops a key whose failures have aged out
                self._failures.pop(key, None)
                return
        self._failures.pop(next(iter(self._failures)))

    async def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: dt.datetime) -> deque[dt.datetime]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times
