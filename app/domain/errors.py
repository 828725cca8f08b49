"""Domain failures, each mapped once to an HTTP answer in app/routes/errors.py."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the failures a person can be told about."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """Unknown, or not the caller's: the two are indistinguishable on purpose."""


class Conflict(DomainError):
    pass


class Contention(Conflict):
    """The database stopped this transaction for a concurrent one (a deadlock, or a serialization failure);
    nothing of it was written, and doing it again is expected to work."""

    def __init__(self) -> None:
        super().__init__("Another change to the same records was being made at that moment; nothing was changed. "
                         "Try again.")  # fmt: skip


class InvalidInput(DomainError):
    pass


class NotAuthenticated(DomainError):
    pass


class RefreshTokenReused(NotAuthenticated):
    """A rotated refresh token came back: it was copied, and its sign-in is ended."""


class PayloadRejected(DomainError):
    """An incoming file we do not keep, with the status that says why (413, 415 or 422)."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code


class StorageFull(PayloadRejected):
    """The server's disk is full, or would be past its reserve: answered 507, and nothing of it is kept."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(507, detail or DISK_FULL)

    @classmethod
    def at_reserve(cls, reserve: str, what: str = "this photo was not stored") -> StorageFull:
        """The disk keeps `reserve` (e.g. "100 MB") free for the database, thumbs and sign-ins."""
        return cls(
            f"The server's disk is nearly full (it keeps {reserve} free), so {what}. Whoever runs Classify needs "
            "to make room; removing photos you no longer need frees some too, once they are deleted for good in "
            "Recently removed."
        )


DISK_FULL = (
    "The server's disk is full, so nothing was saved. Whoever runs Classify needs to make room on it; "
    "what is already stored is safe."
)


class Forbidden(DomainError):
    """Not for this person, whoever they are (403): a Google account this server does not take new accounts for."""


class TooManyAttempts(DomainError):
    """Too many failed sign-ins from this client for this account; answered 429 with Retry-After."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
