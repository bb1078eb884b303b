"""SOPS-encrypted manifests (age keys), decrypted at render time, in memory only.

A YAML or JSON document with a top-level ``sops`` mapping is a SOPS file: every value is written as
``ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<str|int|float|bool|bytes>]``, encrypted with
a 32-byte data key under AES-256-GCM whose additional data is the value's path of mapping keys, each
followed by ``:`` (``data:password:``; list positions add nothing). The data key is age-encrypted to
each recipient in ``sops.age[].enc``. ``sops.mac`` holds, encrypted the same way with
``sops.lastmodified`` as additional data, the upper-case hex SHA-512 of every value in document order
(the plaintext of encrypted values; with ``mac_only_encrypted``, only those, after a fixed prefix).
Values under a key ending with ``unencrypted_suffix`` (or outside ``encrypted_suffix`` /
``encrypted_regex``, or matching ``unencrypted_regex``) are stored in clear and still counted in the MAC.

``decrypt(document, keys=..., file=...)`` returns the plain document without its ``sops`` key, or raises
``RenderError`` naming the file: no key configured, no identity matching the recipients (a wrong key),
or a value or MAC that does not authenticate (an edited file). No plaintext is written anywhere: the
render cache keeps the encrypted documents, and decryption happens after it. There is no maintained
Python SOPS library (PyPI's ``sops`` is the 2018 Python predecessor), so the format is implemented here
after getsops/sops ``sops.go`` and ``aes/cipher.go``; age itself is ``pyrage`` (bindings to rage).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import pyrage
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from reconciler.errors import RenderError

ENCRYPTED = re.compile(r"^ENC\[AES256_GCM,data:(?P<data>[^,]*),iv:(?P<iv>[^,]+),tag:(?P<tag>[^,]+),type:(?P<type>\w+)\]$")
MAC_ONLY_ENCRYPTED_PREFIX = hashlib.sha256(b"sops").digest()


class AgeKeys:
    """The age identities SOPS files are decrypted with (the text of an age keys file)."""

    def __init__(self, identities: Iterable[pyrage.x25519.Identity] = ()) -> None:
        self._identities = list(identities)

    @classmethod
    def parse(cls, text: str) -> AgeKeys:
        """Every ``AGE-SECRET-KEY-1...`` line of ``text`` (comments and blank lines skipped)."""
        lines = [line.strip() for line in text.splitlines()]
        try:
            return cls(pyrage.x25519.Identity.from_str(line) for line in lines if line.startswith("AGE-SECRET-KEY-"))
        except pyrage.IdentityError:
            raise RenderError("an age key given for SOPS files is not a valid AGE-SECRET-KEY") from None

    def __bool__(self) -> bool:
        return bool(self._identities)

    def __repr__(self) -> str:
        return f"AgeKeys({len(self._identities)} identities)"

    def data_key(self, metadata: Mapping[str, Any], *, file: str) -> bytes:
        recipients = [r for r in metadata.get("age") or () if isinstance(r, Mapping)]
        if not self._identities:
            raise RenderError("file is SOPS-encrypted but no age key is configured (SOPS_AGE_KEY_FILE or "
                              "SOPS_AGE_KEY)", file=file)
        for recipient in recipients:
            try:
                key = pyrage.decrypt(str(recipient.get("enc", "")).encode(), self._identities)
            except pyrage.DecryptError:
                continue
            if len(key) == 32:
                return bytes(key)
        named = ", ".join(str(r.get("recipient", "?")) for r in recipients) or "none"
        raise RenderError(f"cannot decrypt this SOPS file: no configured age key matches its recipients ({named})",
                          file=file)


def is_encrypted(document: Mapping[str, Any]) -> bool:
    meta = document.get("sops")
    return isinstance(meta, Mapping) and "mac" in meta and "lastmodified" in meta


def decrypt(document: Mapping[str, Any], *, keys: AgeKeys | None, file: str) -> dict[str, Any]:
    """The plain document (see the module docstring); ``RenderError`` naming ``file`` when it cannot be."""
    meta = document["sops"]
    key = (keys or AgeKeys()).data_key(meta, file=file)
    rules = _Rules(meta)
    digest = hashlib.sha512(MAC_ONLY_ENCRYPTED_PREFIX if rules.mac_only_encrypted else b"")
    body = {k: v for k, v in document.items() if k != "sops"}
    plain: dict[str, Any] = _walk(body, (), key=key, rules=rules, digest=digest, file=file)
    stored = _open(str(meta["mac"]), key=key, aad=str(meta["lastmodified"]), file=file, what="the MAC")
    if not isinstance(stored, str) or stored.upper() != digest.hexdigest().upper():
        raise RenderError("SOPS file MAC mismatch: the file was changed after it was encrypted", file=file)
    return plain


class _Rules:
    def __init__(self, meta: Mapping[str, Any]) -> None:
        self.unencrypted_suffix = str(meta.get("unencrypted_suffix") or "")
        self.encrypted_suffix = str(meta.get("encrypted_suffix") or "")
        self.unencrypted_regex = str(meta.get("unencrypted_regex") or "")
        self.encrypted_regex = str(meta.get("encrypted_regex") or "")
        self.mac_only_encrypted = bool(meta.get("mac_only_encrypted"))
        if not any((self.unencrypted_suffix, self.encrypted_suffix, self.unencrypted_regex, self.encrypted_regex)):
            self.unencrypted_suffix = "_unencrypted"

    def encrypted(self, path: tuple[str, ...]) -> bool:
        """Whether the value at ``path`` is encrypted (sops.go ``shouldBeEncrypted``, comments aside)."""
        result = True
        if self.unencrypted_suffix and any(p.endswith(self.unencrypted_suffix) for p in path):
            result = False
        if self.encrypted_suffix:
            result = any(p.endswith(self.encrypted_suffix) for p in path)
        if self.unencrypted_regex and any(re.search(self.unencrypted_regex, p) for p in path):
            result = False
        if self.encrypted_regex:
            result = any(re.search(self.encrypted_regex, p) for p in path)
        return result


def _walk(value: Any, path: tuple[str, ...], *, key: bytes, rules: _Rules, digest: Any, file: str) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _walk(v, (*path, str(k)), key=key, rules=rules, digest=digest, file=file)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, path, key=key, rules=rules, digest=digest, file=file) for v in value]
    if value is None:
        return None
    encrypted = rules.encrypted(path)
    plain = _open(str(value), key=key, aad="".join(f"{p}:" for p in path), file=file,
                  what=".".join(path)) if encrypted else value
    if encrypted or not rules.mac_only_encrypted:
        digest.update(_mac_bytes(plain))
    return plain


def _open(text: str, *, key: bytes, aad: str, file: str, what: str) -> Any:
    if text == "":  # sops leaves an empty value empty (aes/cipher.go isEmpty)
        return ""
    found = ENCRYPTED.match(text)
    if found is None:
        raise RenderError(f"SOPS value {what} is not an ENC[AES256_GCM,...] value", file=file)
    try:
        data, iv, tag = (base64.b64decode(found.group(n)) for n in ("data", "iv", "tag"))
        plain = AESGCM(key).decrypt(iv, data + tag, aad.encode())
    except (InvalidTag, binascii.Error, ValueError):
        raise RenderError(f"SOPS value {what} does not authenticate with this file's data key", file=file) from None
    return _typed(plain, found.group("type"), file=file, what=what)


def _typed(plain: bytes, kind: str, *, file: str, what: str) -> Any:
    text = plain.decode("utf-8", errors="strict") if kind != "bytes" else ""
    converters: dict[str, Any] = {"str": lambda: text, "int": lambda: int(text), "int64": lambda: int(text),
                                  "float": lambda: float(text), "bool": lambda: _bool(text), "bytes": lambda: plain}
    if kind not in converters:
        raise RenderError(f"SOPS value {what} has an unknown type {kind!r}", file=file)
    try:
        return converters[kind]()
    except ValueError:
        raise RenderError(f"SOPS value {what} is not a valid {kind}", file=file) from None


def _bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``, which sops decrypts booleans with (it writes ``True``/``False``)."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(text)


def _mac_bytes(value: Any) -> bytes:
    """sops.go ``ToBytes``: how a value enters the MAC."""
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, bytes):
        return value
    if isinstance(value, float):  # Go's FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent
        fixed = format(Decimal(repr(value)), "f")
        return (fixed.rstrip("0").rstrip(".") if "." in fixed else fixed).encode()
    return str(value).encode()
