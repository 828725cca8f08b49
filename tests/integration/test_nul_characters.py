"""A NUL character (which PostgreSQL text cannot hold) anywhere a person can type is a clear 400."""

from __future__ import annotations

from tests import images


def test_nul_in_path_query_or_json_body_is_a_400_with_a_reason(api):
    for response in (
        api.get("/api/v1/google/picker/sessions/%00"),
        api.get("/api/v1/photos?q=a%00b"),
        api.post("/api/v1/albums/google", json={"title": "Keepers\u0000"}),
        api.client.post("/api/v1/auth/login", json={"email": "a\u0000@example.com", "password": "x"}),
    ):
        assert response.status_code == 400, response.text
        assert "NUL character" in response.json()["detail"]


def test_a_json_body_sent_as_another_type_is_checked_all_the_same(api):
    """Litestar decodes a handler's JSON body whatever its content type says: text/plain (or none) let a NUL
    through to PostgreSQL, a 500 there."""
    body = b'{"email": "owner@example.com\\u0000", "password": "x"}'
    for headers in ({"content-type": "text/plain"}, {"content-type": "application/octet-stream"}, {}):
        response = api.client.post("/api/v1/auth/login", content=body, headers=headers)
        assert response.status_code == 400, (headers, response.text)
        assert "NUL character" in response.json()["detail"]
    change = b'{"current_password": "x", "new_password": "new pass\\u0000word long"}'
    response = api.client.post(
        "/api/v1/auth/password", content=change, headers={**api.headers, "content-type": "text/plain"}
    )
    assert response.status_code == 400, response.text


def test_a_page_form_sent_as_multipart_is_checked_and_an_upload_is_not(client, api):
    response = client.post("/login", files={"email": (None, b"a\x00b@example.com"), "password": (None, b"x")})
    assert response.status_code == 400 and "NUL character" in response.text
    photo = images.jpeg()
    assert b"\x00" in photo  # the bytes of a photo hold NULs, and its upload is taken
    assert api.post("/api/v1/photos", files={"files": ("nul.jpg", photo, "image/jpeg")}).status_code == 201


def test_an_escaped_backslash_before_u0000_is_not_a_nul(api):
    # The JSON string "\\u0000" is a backslash followed by 'u0000': an ordinary (wrong) password.
    response = api.client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "\\u0000"})
    assert response.status_code == 401


def test_a_form_post_with_nul_is_refused_on_the_page(client, api):
    response = client.post(
        "/login", content=b"email=a%00b&password=x", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400 and "NUL character" in response.text


def test_an_uploaded_file_name_with_control_characters_is_stored_cleaned(api):
    # Written by hand: httpx would percent-encode the NUL, a hostile client does not.
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="hol\x00i\x07day.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + images.jpeg() + b"\r\n--b0undary--\r\n"
    )
    headers = {**api.headers, "content-type": "multipart/form-data; boundary=b0undary"}
    response = api.client.post("/api/v1/photos", content=body, headers=headers)
    assert response.status_code == 201, response.text
    photo = response.json()["photos"][0]
    assert photo["filename"] == "holiday.jpg"
    assert api.get(f"/api/v1/photos/{photo['id']}").json()["filename"] == "holiday.jpg"
