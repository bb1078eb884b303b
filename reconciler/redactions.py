"""Scrubbing secret-looking values out of data and text before it is logged or stored.

One ``Redactor`` serves every sink that leaves the process (log lines, database rows). It masks:

- the value of any key whose name ends like a credential (``password``, ``passwd``, ``token``,
  ``secret``, ``authorization``, ``apiKey``, ``privateKey``, ``kubeconfig``, ``credentials``), when
  the value is a scalar; ``secretName`` or ``tokenFile`` name a secret, they do not hold one;
- the ``value`` of a ``{name: ..., value: ...}`` pair (an env var, a header) whose name does;
- ``Bearer <token>`` / ``Basic <token>`` anywhere in a string;
- the user part of a URL (``https://user:pw@host`` gives ``https://***@host``);
- every registered canary or known secret, plain and base64-encoded.

Values the core already masked (``<masked sha256:...>``) are left as they are. Masking never raises:
a sink must not fail because of what it was handed.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
ALREADY_MASKED = re.compile(r"^<masked sha256:[0-9a-f]+>$")
SECRET_KEY = re.compile(
    r"(password|passwd|token|secret|authorization|api[_-]?key|private[_-]?key|kubeconfig|credentials?)$",
    re.IGNORECASE,
)
AUTH_SCHEME = re.compile(r"\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}", re.IGNORECASE)
URL_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@'\"<>]+@")
MIN_CANARY = 4


def is_secret_key(name: str) -> bool:
    """True when a mapping key of this name holds a credential."""
    return SECRET_KEY.search(name) is not None


class Redactor:
    """Masks secrets in text and nested data; knows extra values to hide (thread-safe)."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._known: tuple[str, ...] = ()
        for value in known:
            self.register(value)

    def register(self, value: str) -> None:
        """Hide ``value`` (and its base64 form) wherever it appears from now on."""
        if len(value) < MIN_CANARY:
            return
        encoded = base64.b64encode(value.encode()).decode()
        with self._lock:
            fresh = [v for v in (value, encoded, encoded.rstrip("=")) if v not in self._known]
            self._known = tuple(sorted({*self._known, *fresh}, key=len, reverse=True))

    def text(self, value: str) -> str:
        """``value`` with auth headers, URL credentials and known secrets masked."""
        value = AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {MASK}", value)
        value = URL_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", value)
        for secret in self._known:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        """A copy of ``value`` (JSON-like data) with every secret masked."""
        if isinstance(value, Mapping):
            masked = {k: self._field(str(k), v) for k, v in value.items()}
            return _mask_named_value(masked)
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _field(self, key: str, value: Any) -> Any:
        if is_secret_key(key) and _is_scalar(value) and not _is_blank(value):
            return value if ALREADY_MASKED.match(str(value)) else MASK
        return self.data(value)


def _mask_named_value(pair: dict[Any, Any]) -> dict[Any, Any]:
    """``{name: PGPASSWORD, value: ...}`` (an env var, a header) holds a secret in ``value``."""
    name, value = pair.get("name"), pair.get("value")
    if isinstance(name, str) and is_secret_key(name) and _is_scalar(value) and not _is_blank(value) and not (
            ALREADY_MASKED.match(str(value))):
        pair["value"] = MASK
    return pair


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | bytes | int | float) and not isinstance(value, bool)


def _is_blank(value: Any) -> bool:
    return value in ("", MASK)


DEFAULT = Redactor()
"""The process-wide redactor used by the logs and the store unless one is passed in."""
