import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.keystore import KeySealError, open_private_key, seal_private_key

SECRET = "s" * 40


def test_sealed_key_round_trips_and_signs_the_same() -> None:
    key = Ed25519PrivateKey.generate()
    sealed = seal_private_key(key, label="did:web:x#key-1", secret_key=SECRET)
    opened = open_private_key(sealed, label="did:web:x#key-1", secret_key=SECRET)
    assert opened.sign(b"m") == key.sign(b"m")


def test_sealed_form_does_not_contain_the_key() -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes_raw()
    sealed = seal_private_key(key, label="k", secret_key=SECRET)
    assert raw.hex() not in sealed
    import base64

    assert base64.b64encode(raw).decode() not in sealed


@pytest.mark.parametrize("change", ["label", "secret", "ciphertext"])
def test_wrong_label_secret_or_tampering_is_refused(change: str) -> None:
    sealed = seal_private_key(Ed25519PrivateKey.generate(), label="k", secret_key=SECRET)
    label, secret = "k", SECRET
    if change == "label":
        label = "other"
    elif change == "secret":
        secret = "t" * 40
    else:
        data = json.loads(sealed)
        data["ciphertext"] = data["ciphertext"][:-4] + (
            "AAAA" if data["ciphertext"][-4:] != "AAAA" else "BBBB"
        )
        sealed = json.dumps(data)
    with pytest.raises(KeySealError):
        open_private_key(sealed, label=label, secret_key=secret)
