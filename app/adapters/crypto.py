"""Authenticated encryption for secrets at rest (OAuth tokens), with a key derived from CLASSIFY_SECRET_KEY."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1."


class TokenCipher:
    """AES-256-GCM; each value gets its own random nonce, and the purpose is bound in as associated data."""

    def __init__(self, secret_key: str, purpose: str = "oauth-tokens") -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"classify", info=purpose.encode()).derive(
            secret_key.encode()
        )
        self._aead = AESGCM(key)
        self._purpose = purpose.encode()

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self._purpose)
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        if not token.startswith(PREFIX):
            raise ValueError("not a sealed value")
        raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], self._purpose).decode()
        except InvalidTag:
            raise ValueError("the value was altered or sealed with another key") from None
