"""OAuth 2.0 / OpenID Connect endpoints of the Google fake (CONTRACTS.md §2)."""

from __future__ import annotations

import base64
import functools
import hashlib
import html
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.google_http import Request, Response, html_response, json_response, oauth_error, redirect
from tests.fakes.google_models import SCOPE_ALIASES, Authorization, Token, canonical_scopes, new_id

if TYPE_CHECKING:
    from tests.fakes.google import FakeGoogle

ISSUER = "https://accounts.google.com"
CODE_LIFETIME = 600.0
KEY_ID = "classify-fake-google-key-1"
CLAIMS = "aud email email_verified exp family_name given_name iat iss name picture sub".split()  # noqa: SIM905
BASIC_SCOPES = canonical_scopes(["openid", "email", "profile"])


@functools.cache
def signing_key() -> rsa.RSAPrivateKey:
    """One RSA test key per process (generating one takes ~50 ms)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict[str, Any]:
    numbers = signing_key().public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()

    return {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KEY_ID, "n": b64(numbers.n), "e": "AQAB"}]}


def public_key_pem() -> bytes:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _b64_sha256(text: str, half: bool = False) -> str:
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2] if half else digest).rstrip(b"=").decode()


def _error_page(status: int, error: str, detail: str) -> Response:
    body = f"<!doctype html><title>Error {status}: {error}</title><h1>Error {status}: {html.escape(error)}</h1>"
    return html_response(body + f"<p id='detail'>{html.escape(detail)}</p>", status)


def _scope_param(scopes: set[str]) -> str:
    short = {short for short, url in SCOPE_ALIASES.items() if url in scopes}
    return " ".join(sorted(short) + sorted(scopes))


def authorize(fake: FakeGoogle, req: Request) -> Response:
    """GET /o/oauth2/v2/auth: validate, then show the consent page (or consent at once)."""
    p = req.query
    if p.get("client_id") != fake.client_id:
        return _error_page(401, "invalid_client", "The OAuth client was not found.")
    redirect_uri = p.get("redirect_uri", "")
    if not fake.redirect_uri_allowed(redirect_uri):
        return _error_page(400, "redirect_uri_mismatch", f"redirect_uri={redirect_uri} is not registered")
    for name in ("response_type", "scope"):
        if not p.get(name):
            return _error_page(400, "invalid_request", f"Missing required parameter: {name}")
    if p["response_type"] != "code":
        return _error_page(400, "invalid_request", f"Unsupported response_type: {p['response_type']}")
    challenge, method = p.get("code_challenge"), p.get("code_challenge_method")
    if method and not challenge:
        return _error_page(400, "invalid_request", "code_challenge_method without code_challenge")
    if challenge:
        method = method or "plain"
        if method not in ("S256", "plain"):
            return _error_page(400, "invalid_request", f"Invalid code_challenge_method: {method}")
    access_type = p.get("access_type", "online")
    if access_type not in ("online", "offline"):
        return _error_page(400, "invalid_request", f"Invalid access_type: {access_type}")
    auth = Authorization(
        params=p,
        client_id=p["client_id"],
        redirect_uri=redirect_uri,
        scopes=canonical_scopes(p["scope"]),
        state=p.get("state"),
        code_challenge=challenge,
        code_challenge_method=method if challenge else None,
        access_type=access_type,
        prompt=p.get("prompt", ""),
        include_granted_scopes=p.get("include_granted_scopes", "").lower() == "true",
        nonce=p.get("nonce"),
        time=fake.now(),
    )
    fake.authorizations.append(auth)
    prompts = set(auth.prompt.split())
    if "none" in prompts:
        grant = fake.live_grant(fake.next_user.sub, auth.client_id)
        if grant is None or not auth.scopes <= grant.scopes:
            return finish(fake, auth, allow=False, error="consent_required")
        return finish(fake, auth, allow=True)
    if fake.auto_consent:
        return finish(fake, auth, allow=True)
    return html_response(consent_page(fake, len(fake.authorizations) - 1, auth))


def consent_page(fake: FakeGoogle, index: int, auth: Authorization) -> str:
    user = fake.next_user
    rows = []
    for scope in sorted(auth.scopes):
        locked = " disabled" if scope in BASIC_SCOPES else ""
        checked = "" if scope in fake.untick_scopes else " checked"
        rows.append(
            f"<li><label><input type='checkbox' name='scope' value='{html.escape(scope)}'{checked}{locked}> "
            f"{html.escape(scope)}</label></li>"
        )
    return (
        "<!doctype html><html><head><title>Sign in - Google Accounts</title></head><body>"
        f"<h1>Classify wants to access your Google Account</h1><p id='account'>{html.escape(user.email)}</p>"
        f"<form method='post' action='/o/oauth2/v2/auth/consent'><input type='hidden' name='auth' value='{index}'>"
        f"<ul id='scopes'>{''.join(rows)}</ul>"
        "<button id='deny' name='action' value='deny' type='submit'>Deny</button> "
        "<button id='allow' name='action' value='allow' type='submit'>Allow</button>"
        "</form></body></html>"
    )


def consent(fake: FakeGoogle, req: Request) -> Response:
    """POST /o/oauth2/v2/auth/consent: the consent page's buttons."""
    form = req.form() or {}
    try:
        auth = fake.authorizations[int(form.get("auth", ""))]
    except (ValueError, IndexError):
        return _error_page(400, "invalid_request", "Unknown authorization request")
    if auth.outcome is not None:
        return _error_page(400, "invalid_request", "This consent was already answered")
    ticked = set(unquote(s) for s in _all_values(req.body, "scope"))
    untick = {s for s in auth.scopes - BASIC_SCOPES if s not in ticked}
    return finish(fake, auth, allow=form.get("action") == "allow", untick=untick)


def _all_values(body: bytes, name: str) -> list[str]:
    from urllib.parse import parse_qs

    return parse_qs(body.decode("utf-8", "replace")).get(name, [])


def finish(
    fake: FakeGoogle, auth: Authorization, *, allow: bool, untick: set[str] | None = None, error: str = ""
) -> Response:
    sep = "&" if urlsplit(auth.redirect_uri).query else "?"
    state = {"state": auth.state} if auth.state is not None else {}
    if not allow:
        auth.outcome = "denied"
        return redirect(auth.redirect_uri + sep + urlencode({"error": error or "access_denied", **state}))
    user = fake.next_user
    untick = fake.untick_scopes if untick is None else untick
    granted = {s for s in auth.scopes if s in BASIC_SCOPES or s not in untick}
    grant = fake.grant_for(user, auth.client_id)
    grant.scopes |= granted
    auth.user, auth.outcome, auth.code = user, "allowed", new_id("4/0A")
    auth.granted_scopes = granted | (grant.scopes if auth.include_granted_scopes else set())
    fake.codes[auth.code] = auth
    query = {**state, "iss": ISSUER, "code": auth.code, "scope": _scope_param(auth.granted_scopes)}
    query |= {"authuser": "0", "prompt": "consent" if "none" not in auth.prompt.split() else "none"}
    return redirect(auth.redirect_uri + sep + urlencode(query))


def _client_credentials(req: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    scheme, _, value = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None, None
        return unquote(client_id), unquote(secret)
    return form.get("client_id"), form.get("client_secret")


def token(fake: FakeGoogle, req: Request) -> Response:
    """POST /token: authorization_code and refresh_token grants."""
    form = req.form()
    if req.method != "POST" or form is None:
        return oauth_error("invalid_request", "Invalid request: expected a POST with application/x-www-form-urlencoded")
    client_id, secret = _client_credentials(req, form)
    if client_id != fake.client_id:
        return oauth_error("invalid_client", "The OAuth client was not found.", 401)
    if secret != fake.client_secret:
        return oauth_error("invalid_client", "Unauthorized", 401)
    grant_type = form.get("grant_type", "")
    if grant_type == "authorization_code":
        return _exchange_code(fake, form)
    if grant_type == "refresh_token":
        return _refresh(fake, form)
    return oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type}")


def _exchange_code(fake: FakeGoogle, form: dict[str, str]) -> Response:
    auth = fake.codes.get(form.get("code", ""))
    if auth is None or auth.exchanged or fake.now() > auth.time + CODE_LIFETIME or auth.user is None:
        return oauth_error("invalid_grant", "Malformed auth code.")
    if auth.client_id != form.get("client_id", fake.client_id):
        return oauth_error("invalid_grant", "Unauthorized")
    if form.get("redirect_uri") != auth.redirect_uri:
        return oauth_error("redirect_uri_mismatch", "Bad Request")
    if auth.code_challenge is not None:
        verifier = form.get("code_verifier")
        if not verifier:
            auth.pkce_verified = False
            return oauth_error("invalid_grant", "Missing code verifier.")
        computed = _b64_sha256(verifier) if auth.code_challenge_method == "S256" else verifier
        if computed != auth.code_challenge:
            auth.pkce_verified = False
            return oauth_error("invalid_grant", "Invalid code verifier.")
        auth.pkce_verified = True
    auth.exchanged = True
    grant = fake.grant_for(auth.user, auth.client_id)
    body = _issue(fake, grant, auth.granted_scopes, nonce=auth.nonce)
    if auth.access_type == "offline" and (not grant.has_refresh_token or "consent" in auth.prompt.split()):
        refresh = Token(new_id("1//0g", 40), "refresh", grant, set(auth.granted_scopes))
        fake.tokens[refresh.value] = refresh
        grant.has_refresh_token = True
        body["refresh_token"] = refresh.value
    return json_response(body)


def _refresh(fake: FakeGoogle, form: dict[str, str]) -> Response:
    refresh = fake.tokens.get(form.get("refresh_token", ""))
    if refresh is None or refresh.kind != "refresh" or not refresh.live(fake.now()):
        return oauth_error("invalid_grant", "Token has been expired or revoked.")
    if refresh.grant.client_id != fake.client_id:
        return oauth_error("unauthorized_client", "Unauthorized")
    scopes = set(refresh.scopes)
    if form.get("scope"):
        wanted = canonical_scopes(form["scope"])
        if not wanted <= scopes:
            return oauth_error("invalid_scope", "Some requested scopes were invalid.")
        scopes = wanted
    return json_response(_issue(fake, refresh.grant, scopes))


def _issue(fake: FakeGoogle, grant: Any, scopes: set[str], nonce: str | None = None) -> dict[str, Any]:
    now = fake.now()
    access = Token(new_id("ya29.a0", 60), "access", grant, set(scopes), now + fake.expires_in)
    fake.tokens[access.value] = access
    body: dict[str, Any] = {
        "access_token": access.value,
        "expires_in": int(fake.expires_in),
        "scope": " ".join(sorted(scopes)),
        "token_type": "Bearer",
    }
    if "openid" in scopes:
        claims = {"iss": ISSUER, "azp": grant.client_id, "aud": grant.client_id, **grant.user.claims(scopes)}
        claims |= {"at_hash": _b64_sha256(access.value, half=True), "iat": int(now), "exp": int(now) + 3600}
        if nonce:
            claims["nonce"] = nonce
        body["id_token"] = jwt.encode(claims, signing_key(), algorithm="RS256", headers={"kid": KEY_ID})
    return body


def revoke(fake: FakeGoogle, req: Request) -> Response:
    """POST /revoke: revokes the whole grant of an access or refresh token."""
    value = (req.form() or {}).get("token") or req.query.get("token", "")
    found = fake.tokens.get(value)
    if found is None or not found.live(fake.now()):
        return oauth_error("invalid_token", "Token expired or revoked")
    found.grant.revoked = True
    return Response(200, b"", "text/html; charset=utf-8")


def userinfo(fake: FakeGoogle, req: Request) -> Response:
    access = fake.check_bearer(req, None)
    if isinstance(access, Response):
        return access
    if not access.scopes & BASIC_SCOPES:
        return fake.api_error(403)
    return json_response(access.grant.user.claims(access.scopes))


def openid_configuration(fake: FakeGoogle, req: Request) -> Response:
    """Google's discovery metadata (google.openid-configuration.json) with the fake's URLs."""
    base = fake.base_url
    return json_response(
        {
            "issuer": ISSUER,
            "authorization_endpoint": f"{base}/o/oauth2/v2/auth",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/v1/userinfo",
            "revocation_endpoint": f"{base}/revoke",
            "jwks_uri": f"{base}/oauth2/v3/certs",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": CLAIMS,
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        }
    )
