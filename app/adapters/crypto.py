"""Authenticated encryption for secrets at rest (OAuth tokens), with a key derived from CLASSIFY_SECRET_KEY."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v2."  # sealed for one place (`bound_to`): a value copied to another row does not open there
UNBOUND_PREFIX = "v1."  # sealed before values were bound to their place; still opened, never written


class TokenCipher:
    """AES-256-GCM; each value gets its own random nonce, and the purpose and the value's place (the row it
    belongs to, e.g. its user and provider) are bound in as associated data."""

    def __init__(self, secret_key: str, purpose: str = "oauth-tokens") -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"classify", info=purpose.encode()).derive(
            secret_key.encode()
        )
        self._aead = AESGCM(key)
        self._purpose = purpose.encode()

    def encrypt(self, plaintext: str, bound_to: str = "") -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self._associated(bound_to))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, bound_to: str = "") -> str:
        if token.startswith(PREFIX):
            associated = self._associated(bound_to)
        elif token.startswith(UNBOUND_PREFIX):
            associated = self._purpose
        else:
            raise ValueError("not a sealed value")
        raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], associated).decode()
        except InvalidTag:
            raise ValueError("the value was altered, moved or sealed with another key") from None

    def _associated(self, bound_to: str) -> bytes:
        return self._purpose + b"\x00" + bound_to.encode()
