"""Pytest fixtures for the fakes. Import them into a conftest.py:

from tests.fakes.fixtures import fake_google  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.google import FakeGoogle, running_fake_google

__all__ = ["fake_google"]


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    """A running fake of Google on its own port (consent page shown; set ``fake_google.auto_consent = True``
    to skip it). ``fake_google.service_roots()`` gives the app's settings for it."""
    with running_fake_google() as fake:
        yield fake
