import pytest

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
