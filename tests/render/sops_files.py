"""Write SOPS files (age recipients) for the tests, as ``sops --encrypt`` does, so fixtures are made by
the tests themselves: a random data key age-encrypted (armored) to each recipient, every value
AES-256-GCM encrypted with its key path as additional data, and the MAC over the values in document
order, encrypted with ``lastmodified`` as additional data (getsops/sops ``sops.go``, ``aes/cipher.go``)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pyrage
import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from reconciler.render import sops

LASTMODIFIED = "2026-12-04T10:00:00Z"


def identity() -> pyrage.x25519.Identity:
    return pyrage.x25519.Identity.generate()


def encrypt_value(value: Any, *, key: bytes, aad: str) -> str:
    kind = {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes"}[type(value)]
    plain = sops._mac_bytes(value) if kind != "str" else value.encode()
    iv = os.urandom(32)
    sealed = AESGCM(key).encrypt(iv, plain, aad.encode())
    data, tag = sealed[:-16], sealed[-16:]
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"ENC[AES256_GCM,data:{b64(data)},iv:{b64(iv)},tag:{b64(tag)},type:{kind}]"


def encrypt(document: Mapping[str, Any], recipients: Sequence[pyrage.x25519.Recipient], *,
            encrypted_regex: str = "") -> dict[str, Any]:
    """``document`` as sops would write it for ``recipients`` (every value, or only those under a key
    matching ``encrypted_regex``)."""
    key = os.urandom(32)
    digest = hashlib.sha512()

    def walk(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, Mapping):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, path) for v in value]
        if value is None:
            return None
        digest.update(sops._mac_bytes(value))
        if (encrypted_regex and not any(re.search(encrypted_regex, p) for p in path)) or value == "":
            return value
        return encrypt_value(value, key=key, aad="".join(f"{p}:" for p in path))

    body = walk(dict(document), ())
    meta: dict[str, Any] = {
        "age": [{"recipient": str(r), "enc": pyrage.encrypt(key, [r], armored=True).decode()} for r in recipients],
        "lastmodified": LASTMODIFIED,
        "mac": encrypt_value(digest.hexdigest().upper(), key=key, aad=LASTMODIFIED),
        "version": "3.9.0",
    }
    meta.update({"encrypted_regex": encrypted_regex} if encrypted_regex else {"unencrypted_suffix": "_unencrypted"})
    return {**body, "sops": meta}


def to_yaml(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(document), sort_keys=False)
