"""Another account's photos do not exist for you: every answer is the 404 of an unknown id."""

from __future__ import annotations

import io
import uuid
import zipfile

from tests import images


def test_a_second_account_sees_none_of_the_first_accounts_photos(api, other_api):
    photo = api.upload(("mine.jpg", images.jpeg())).json()["photos"][0]
    api.wait_scored()
    job_id = api.post("/api/v1/blur/analyze-batch", json={"photo_ids": [photo["id"]]}).json()["job_id"]
    unknown = str(uuid.uuid4())

    urls = [
        "/api/v1/photos/{id}",
        "/api/v1/photos/{id}/result",
        "/api/v1/photos/{id}/image?size=thumb",
        "/api/v1/photos/{id}/image?size=medium",
        "/api/v1/photos/{id}/image?size=original",
    ]
    for url in urls:
        theirs = other_api.get(url.format(id=photo["id"]))
        nobody = other_api.get(url.format(id=unknown))
        assert theirs.status_code == nobody.status_code == 404, url
        assert theirs.json() == nobody.json()
    assert other_api.delete(f"/api/v1/photos/{photo['id']}").status_code == 404
    assert other_api.post(f"/api/v1/photos/{photo['id']}/analyze").status_code == 404
    assert other_api.get(f"/api/v1/blur/jobs/{job_id}").json() == other_api.get(f"/api/v1/blur/jobs/{unknown}").json()
    assert other_api.post("/api/v1/blur/analyze-batch", json={"photo_ids": [photo["id"]]}).status_code == 404

    listing = other_api.get("/api/v1/photos").json()
    assert listing["items"] == [] and listing["counts"]["all"] == 0
    export = zipfile.ZipFile(io.BytesIO(other_api.get("/api/v1/export?filter=all").content))
    assert export.namelist() == []
    assert other_api.get("/api/v1/stats").json()["counts"]["all"] == 0

    # The same bytes are a new photo for the other account, not a duplicate of someone else's.
    assert other_api.upload(("mine.jpg", images.jpeg())).status_code == 201
    assert api.get(f"/api/v1/photos/{photo['id']}").status_code == 200
