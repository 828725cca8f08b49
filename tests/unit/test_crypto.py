import base64
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.adapters.crypto import TokenCipher


def test_round_trip_and_no_plaintext():
    cipher = TokenCipher("server secret")
    sealed = cipher.encrypt("1//refresh-token")
    assert "refresh" not in sealed and cipher.decrypt(sealed) == "1//refresh-token"
    assert cipher.encrypt("same") != cipher.encrypt("same")  # a fresh nonce every time


def test_tampering_or_another_key_is_refused():
    sealed = TokenCipher("server secret").encrypt("token")
    with pytest.raises(ValueError):
        TokenCipher("another secret").decrypt(sealed)
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(ValueError):
        TokenCipher("server secret").decrypt(flipped)


def test_a_value_opens_only_where_it_was_sealed_for():
    cipher = TokenCipher("server secret")
    sealed = cipher.encrypt("token", bound_to="user-a:google")
    assert cipher.decrypt(sealed, bound_to="user-a:google") == "token"
    with pytest.raises(ValueError, match="moved"):
        cipher.decrypt(sealed, bound_to="user-b:google")


def test_values_sealed_before_binding_still_open():
    """The first version's format: "v1." and the nonce and ciphertext, with the purpose alone bound in."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"classify", info=b"oauth-tokens").derive(b"server secret")
    nonce = os.urandom(12)
    old = "v1." + base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, b"token", b"oauth-tokens")).decode()
    assert TokenCipher("server secret").decrypt(old, bound_to="user-a:google") == "token"
