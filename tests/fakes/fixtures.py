"""Pytest fixtures for the fakes. Import them into a conftest.py:

from tests.fakes.fixtures import fake_google, fake_openai  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.google import FakeGoogle, running_fake_google
from tests.fakes.openai_fake import FakeOpenAI, running_fake_openai

__all__ = ["fake_google", "fake_openai"]


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    """A running fake of Google on its own port (consent page shown; set ``fake_google.auto_consent = True``
    to skip it). ``fake_google.service_roots()`` gives the app's settings for it."""
    with running_fake_google() as fake:
        yield fake


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A running fake of an OpenAI-compatible server on its own port: ``fake_openai.base_url``
    (``http://127.0.0.1:PORT/v1``, for OPENAI_BASE_URL) and ``fake_openai.api_key`` (for OPENAI_API_KEY);
    model ``gpt-4o-mini``. Control it with ``fail_next``, ``delay_next`` and ``responder``."""
    with running_fake_openai() as fake:
        yield fake
