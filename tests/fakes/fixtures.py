"""Pytest fixtures for the fakes. Import them into a conftest.py:

from tests.fakes.fixtures import fake_drive, fake_dropbox, fake_google, fake_openai  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.drive_fake import FakeDrive, running_fake_drive
from tests.fakes.dropbox_fake import FakeDropbox, running_fake_dropbox
from tests.fakes.google import FakeGoogle, running_fake_google
from tests.fakes.openai_fake import FakeOpenAI, running_fake_openai

__all__ = ["fake_drive", "fake_dropbox", "fake_google", "fake_openai"]


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


@pytest.fixture
def fake_drive() -> Iterator[FakeDrive]:
    """A running fake of Google Drive v3 on its own port: ``fake_drive.api_root`` (``http://127.0.0.1:PORT/drive/v3``,
    for GOOGLE_DRIVE_API), ``fake_drive.api_key`` (``test-api-key``) and Bearer tokens in ``fake_drive.tokens``.
    Fill it with ``add_folder``/``add_file``/``fill_folder``; control it with ``fail_next``."""
    with running_fake_drive() as fake:
        yield fake


@pytest.fixture
def fake_dropbox() -> Iterator[FakeDropbox]:
    """A running fake of Dropbox shared links on its own port: ``fake_dropbox.api_root`` (for DROPBOX_API),
    ``fake_dropbox.content_root`` (for DROPBOX_CONTENT_API), ``app_key``/``app_secret``. Share folders with
    ``add_shared_folder``/``fill_shared_folder``; set ``fake_dropbox.page_size`` to page list_folder; ``fail_next``."""
    with running_fake_dropbox() as fake:
        yield fake
