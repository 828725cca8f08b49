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
