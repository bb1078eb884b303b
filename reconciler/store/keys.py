"""Keys the store keeps for itself: the HMAC key that authenticates saved plans.

``plan_key()`` returns the key, creating it (32 random bytes) on first use inside the write lock, so
every process sharing the store signs and checks plans with the same key and two first uses at once
agree. The key never leaves the store but through this call; it is not an object of any cluster.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from reconciler.store import tables
from reconciler.store.contexts import Context

T = tables.keys
PLAN_KEY = "plan-hmac"
KEY_BYTES = 32


class Keys:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def plan_key(self) -> bytes:
        """The key saved plans are authenticated with (see the module docstring)."""
        with self._ctx.read() as conn:
            found = conn.execute(select(T.c.value).where(T.c.name == PLAN_KEY)).scalar()
        if found is not None:
            return bytes.fromhex(str(found))
        with self._ctx.write() as conn:
            found = conn.execute(select(T.c.value).where(T.c.name == PLAN_KEY)).scalar()
            if found is None:
                found = secrets.token_hex(KEY_BYTES)
                conn.execute(T.insert().values(name=PLAN_KEY, value=found, created_at=self._ctx.clock()))
        return bytes.fromhex(str(found))
