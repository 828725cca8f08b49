"""Google's OAuth, Photos Picker and Photos Library over HTTP, reached only through the configured roots."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import httpx

from app.adapters.answers import unavailable_when_unanswered
from app.adapters.capped import read_capped
from app.adapters.kept_check import KeptCheck
from app.domain.google import (
    AlbumCreated,
    BaseUrlExpired,
    GoogleFailure,
    GoogleProfile,
    InvalidGrant,
    ItemAdded,
    PickedItem,
    PickerSession,
    RateLimited,
    ServiceUnavailable,
    SessionGone,
    TokenSet,
    Unauthorized,
    parse_duration,
)
from app.domain.naming import within
from app.settings import Settings

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
PROBE_REFRESH_TOKEN = "classify-health-check"  # no grant has it: Google answers for the client, not a person
DOWNLOAD_TIMEOUT = httpx.Timeout(120.0, connect=10.0)


def _timestamp(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("status") or response.reason_phrase)
    if isinstance(body, dict) and "error_description" in body:
        return str(body["error_description"])
    return str(error or response.reason_phrase)


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else None


def _raise_for(response: httpx.Response, what: str) -> None:
    if response.is_success:
        return
    status, message = response.status_code, f"Google {what}: {_message(response)}"
    if status == 401:
        raise Unauthorized(status, message)
    if status == 429:
        raise RateLimited(status, message, response.headers.get("retry-after"))
    if status >= 500:
        raise ServiceUnavailable(status, message)
    raise GoogleFailure(status, message)


# Google out of reach (no route, refused, timed out, cut off mid-answer) is answered like Google's own 503, so an
# API call gets a clear 502 and a job backs off and retries, instead of an unexpected error.
UNANSWERED = unavailable_when_unanswered("Google", ServiceUnavailable)


class GoogleApi:
    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.http = http or httpx.AsyncClient(
            timeout=TIMEOUT,
            follow_redirects=False,
        )
        self.check = KeptCheck(self._check_client)  # for the System page

    @property
    def configured(self) -> bool:
        return bool(self.settings.google_client_id and self.settings.google_client_secret)

    # OAuth ---------------------------------------------------------------------------------------
    def authorization_url(
        self, *, redirect_uri: str, state: str, code_challenge: str, scopes: tuple[str, ...], prompt: str | None = None
    ) -> str:
        query = {
            "client_id": self.settings.google_client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(scopes),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "access_type": "offline",
            "include_granted_scopes": "true",
        }
        if prompt:
            query["prompt"] = prompt
        return f"{self.settings.root('google_auth_url')}?{urlencode(query)}"

    async def _token_call(self, form: dict[str, str], now: dt.datetime) -> TokenSet:
        form = {
            **form,
            "client_id": self.settings.google_client_id or "",
            "client_secret": self.settings.google_client_secret or "",
        }
        response = await self.http.post(self.settings.root("google_token_url"), data=form)
        if response.status_code == 400 and _error_code(response) == "invalid_grant":
            raise InvalidGrant(_message(response))
        _raise_for(response, "sign-in")
        body = response.json()
        return TokenSet(
            access_token=body["access_token"],
            expires_at=now + dt.timedelta(seconds=int(body.get("expires_in", 3600))),
            scope=body.get("scope", ""),
            refresh_token=body.get("refresh_token"),
        )

    @UNANSWERED
    async def exchange_code(self, code: str, redirect_uri: str, code_verifier: str, now: dt.datetime) -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return await self._token_call(form, now)

    @UNANSWERED
    async def refresh(self, refresh_token: str, now: dt.datetime) -> TokenSet:
        return await self._token_call({"grant_type": "refresh_token", "refresh_token": refresh_token}, now)

    async def _check_client(self) -> str:
        """Whether Google takes the server's client id and secret: a refresh token that cannot exist is refused
        as invalid_grant (400) for a client it knows, and as invalid_client (401) for one it does not."""
        try:
            await self.refresh(PROBE_REFRESH_TOKEN, dt.datetime.now(dt.UTC))
        except InvalidGrant:
            return "the client id and secret are accepted"
        except Unauthorized:
            raise RuntimeError(
                "Google refuses the server's client id or secret (GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET)"
            ) from None
        return "the client id and secret are accepted"

    @UNANSWERED
    async def revoke(self, token: str) -> None:
        response = await self.http.post(self.settings.root("google_revoke_url"), data={"token": token})
        if response.status_code == 400:
            return  # already revoked or unknown: the outcome we wanted
        _raise_for(response, "revoke")

    @UNANSWERED
    async def profile(self, access_token: str) -> GoogleProfile:
        response = await self.http.get(self.settings.root("google_userinfo_url"), headers=_bearer(access_token))
        _raise_for(response, "profile")
        body = response.json()
        return GoogleProfile(
            sub=str(body["sub"]),
            email=str(body.get("email", "")).lower(),
            name=body.get("name"),
            picture=body.get("picture"),
            email_verified=body.get("email_verified") is True,
        )

    # Picker --------------------------------------------------------------------------------------
    @UNANSWERED
    async def create_session(self, access_token: str) -> PickerSession:
        response = await self.http.post(
            f"{self.settings.root('google_picker_api')}/sessions", json={}, headers=_bearer(access_token)
        )
        _raise_for(response, "Photos Picker")
        return _session(response.json())

    @UNANSWERED
    async def get_session(self, access_token: str, session_id: str) -> PickerSession:
        response = await self.http.get(
            f"{self.settings.root('google_picker_api')}/sessions/{session_id}", headers=_bearer(access_token)
        )
        if response.status_code == 404:
            raise SessionGone(404, "The selection has expired; pick your photos again.")
        _raise_for(response, "Photos Picker")
        return _session(response.json())

    @UNANSWERED
    async def delete_session(self, access_token: str, session_id: str) -> None:
        response = await self.http.delete(
            f"{self.settings.root('google_picker_api')}/sessions/{session_id}", headers=_bearer(access_token)
        )
        if response.status_code != 404:
            _raise_for(response, "Photos Picker")

    @UNANSWERED
    async def list_picked(
        self, access_token: str, session_id: str, page_token: str | None
    ) -> tuple[list[PickedItem], str | None]:
        params = {"sessionId": session_id, "pageSize": "100"}
        if page_token:
            params["pageToken"] = page_token
        response = await self.http.get(
            f"{self.settings.root('google_picker_api')}/mediaItems", params=params, headers=_bearer(access_token)
        )
        if response.status_code == 404:
            raise SessionGone(404, "The selection has expired; pick your photos again.")
        _raise_for(response, "Photos Picker")
        body = response.json()
        items = [_picked(item) for item in body.get("mediaItems", [])]  # videos too: the job says it left them
        return items, body.get("nextPageToken") or None

    @UNANSWERED
    async def download_original(self, access_token: str, base_url: str, max_bytes: int) -> bytes:
        url, headers = f"{base_url}=d", _bearer(access_token)
        async with self.http.stream("GET", url, headers=headers, timeout=DOWNLOAD_TIMEOUT) as response:
            if response.status_code in (403, 404, 410):
                raise BaseUrlExpired(response.status_code, "The download address has expired.")
            if not response.is_success:
                await response.aread()
                _raise_for(response, "photo download")
            return await read_capped(response, max_bytes)

    # Library -------------------------------------------------------------------------------------
    @UNANSWERED
    async def upload(self, access_token: str, data: bytes, mime_type: str) -> str:
        headers = {
            **_bearer(access_token),
            "Content-Type": "application/octet-stream",
            "X-Goog-Upload-Content-Type": mime_type,
            "X-Goog-Upload-Protocol": "raw",
        }
        response = await self.http.post(
            f"{self.settings.root('google_photos_library_api')}/uploads",
            content=data,
            headers=headers,
            timeout=DOWNLOAD_TIMEOUT,
        )
        _raise_for(response, "Photos upload")
        return response.text.strip()

    @UNANSWERED
    async def create_album(self, access_token: str, title: str) -> AlbumCreated:
        response = await self.http.post(
            f"{self.settings.root('google_photos_library_api')}/albums",
            json={"album": {"title": title}},
            headers=_bearer(access_token),
        )
        _raise_for(response, "album")
        body = response.json()
        return AlbumCreated(id=body["id"], product_url=body.get("productUrl", ""))

    @UNANSWERED
    async def add_to_album(self, access_token: str, album_id: str, items: list[tuple[str, str]]) -> list[ItemAdded]:
        """(upload token, file name) pairs, at most 50, into the album; one result per item."""
        body: dict[str, Any] = {
            "albumId": album_id,
            "newMediaItems": [
                {"simpleMediaItem": {"uploadToken": token, "fileName": within(name, 255)}} for token, name in items
            ],
        }
        response = await self.http.post(
            f"{self.settings.root('google_photos_library_api')}/mediaItems:batchCreate",
            json=body,
            headers=_bearer(access_token),
        )
        _raise_for(response, "album")
        results = []
        for result in response.json().get("newMediaItemResults", []):
            status = result.get("status") or {}
            ok = "mediaItem" in result and not status.get("code")
            results.append(ItemAdded(result.get("uploadToken", ""), ok, str(status.get("message", ""))))
        return results

    async def aclose(self) -> None:
        await self.http.aclose()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _session(body: dict[str, Any]) -> PickerSession:
    polling = body.get("pollingConfig") or {}
    return PickerSession(
        id=body["id"],
        picker_uri=body.get("pickerUri", ""),
        media_items_set=bool(body.get("mediaItemsSet")),
        poll_interval_seconds=parse_duration(polling.get("pollInterval"), 5.0),
        expire_time=_timestamp(body.get("expireTime")),
    )


def _picked(item: dict[str, Any]) -> PickedItem:
    media = item.get("mediaFile") or {}
    return PickedItem(
        id=item["id"],
        filename=media.get("filename") or f"{item['id']}.jpg",
        mime_type=media.get("mimeType", ""),
        base_url=media.get("baseUrl", ""),
        create_time=_timestamp(item.get("createTime")),
        kind=str(item.get("type") or "PHOTO"),
    )
