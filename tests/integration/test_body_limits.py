"""Request bodies are bounded before anyone is known: only the two upload routes take a batch of photos (up
to 2.5 GB by default), counted as they stream in. Before, that was every route's limit, and a sign-in form or
JSON body is read whole: one anonymous 200 MB form post to /login held a gigabyte of the server's memory."""

from __future__ import annotations

import io

import numpy as np
from litestar.testing import TestClient
from PIL import Image

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.main import BODY_LIMIT, create_app
from tests import images
from tests.conftest import create_account, login, make_settings
from tests.integration.test_pages import _csrf, _signed_in

OVER = BODY_LIMIT + 1024


def _grain(seed: int) -> bytes:
    """A JPEG of about 1.5 MB: noise does not compress."""
    pixels = np.random.default_rng(seed).integers(0, 256, (1000, 1400, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=92)
    return out.getvalue()


def test_an_anonymous_oversized_form_or_json_body_is_a_413_not_a_read(client):
    token = _csrf(client)
    form = client.post(
        "/login",
        content=b"email=a%40b.c&password=" + b"x" * OVER,
        headers={"content-type": "application/x-www-form-urlencoded", "x-csrftoken": token},
    )
    assert form.status_code == 413 and form.text and "too large" in form.text
    api = client.post("/api/v1/auth/login", content=b'{"email": "a@b.c", "password": "' + b"x" * OVER + b'"}',
                      headers={"content-type": "application/json"})  # fmt: skip
    assert (
        api.status_code == 413
        and api.json()["detail"] == "The request is too large for this address; nothing was changed."
    )


def test_a_page_upload_without_its_header_token_is_refused_before_it_is_read(client, api):
    _signed_in(client)
    # an empty header counted as none: the CSRF check read the whole form to look for the token there
    empty = client.post("/upload", files=[("files", ("p.jpg", images.jpeg()))], headers={"x-csrftoken": " "})
    assert empty.status_code == 403 and "without the page" in empty.text
    refused = client.post("/upload", files=[("files", ("p.jpg", images.jpeg()))])  # the token only in the form
    assert refused.status_code == 403 and "without the page" in refused.text and "Nothing was stored" in refused.text
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 0


def test_uploads_still_take_a_batch_past_the_limit_of_other_requests(tmp_path, database_url):
    settings = make_settings(tmp_path / "data", database_url, max_upload_mb=2, max_files_per_request=4)
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        create_account(settings, "owner@example.com")
        api = login(client, "owner@example.com")
        files = [(f"big{i}.jpg", _grain(seed=i)) for i in range(4)]
        assert sum(len(data) for _, data in files) > BODY_LIMIT
        assert all(len(data) < 2 * 1024 * 1024 for _, data in files)
        response = api.upload(*files)
        assert response.status_code == 201, response.text
        assert len(response.json()["photos"]) == 4

        token = _signed_in(client)
        page = client.post("/upload", files=[("files", files[0])], headers={"x-csrftoken": token})
        assert page.status_code == 200 and page.json()["photos"][0]["filename"] == "big0.jpg"
