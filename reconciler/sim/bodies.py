"""Request bodies: JSON or YAML decoding, and the JSON, merge and strategic-merge patch types."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from reconciler.core.objects import Obj
from reconciler.sim import statuses

APPLY = "application/apply-patch+yaml"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def decode(raw: bytes, content_type: str) -> Any:
    """The body as data; JSON first, YAML when the content type says so. Protobuf and CBOR are refused."""
    if media_type(content_type) in ("application/vnd.kubernetes.protobuf", "application/cbor"):
        raise statuses.unsupported_media_type(content_type)
    try:
        if media_type(content_type) in ("application/yaml", APPLY) and not raw.lstrip().startswith(b"{"):
            return yaml.load(raw.decode(), Loader=_Loader)
        return json.loads(raw) if raw.strip() else {}
    except (ValueError, yaml.YAMLError) as exc:
        raise statuses.bad_request(f"error decoding request body: {exc}") from exc


def decode_object(raw: bytes, content_type: str) -> Obj:
    body = decode(raw, content_type)
    if not isinstance(body, dict):
        raise statuses.bad_request("the request body must be an object")
    return body


def patcher(raw: bytes, content_type: str, *, type_name: str | None, schema: Any) -> Callable[[Obj], Obj]:
    """A function from the live object to the patched one, for the patch type ``content_type``."""
    kind = media_type(content_type)
    if kind not in (JSON_PATCH, MERGE_PATCH, STRATEGIC):
        raise statuses.unsupported_media_type(content_type)
    body = decode(raw, "application/json")

    def change(live: Obj) -> Obj:
        from reconciler.sim import patching

        try:
            return patching.apply_patch(live, body, content_type=kind, type_name=type_name, schema=schema)
        except patching.InvalidPatch as exc:
            raise statuses.ApiError(422, "Invalid", f"the server rejected our request due to an error in our "
                                    f"request: {exc}") from exc

    return change
