"""Request bodies: JSON or YAML decoding, and the JSON, merge and strategic-merge patch types."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonpatch
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


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _json_patch(patch: Any) -> Callable[[Obj], Obj]:
    def change(live: Obj) -> Obj:
        try:
            return dict(jsonpatch.apply_patch(live, patch))
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise statuses.ApiError(422, "Invalid", f"the server rejected our request due to an error in our "
                                    f"request: {exc}") from exc
    return change


def _strategic(patch: Obj, type_name: str | None) -> Callable[[Obj], Obj]:
    try:
        from reconciler.sim import patching
    except ImportError:
        return lambda live: dict(merge_patch(live, patch))
    return lambda live: dict(patching.strategic_merge_patch(live, patch, type_name=type_name))


def patcher(raw: bytes, content_type: str, *, type_name: str | None) -> Callable[[Obj], Obj]:
    """A function from the live object to the patched one, for the patch type ``content_type``."""
    kind = media_type(content_type)
    body = decode(raw, "application/json")
    if kind == JSON_PATCH:
        if not isinstance(body, list):
            raise statuses.bad_request("a JSON patch must be a list of operations")
        return _json_patch(body)
    if not isinstance(body, dict):
        raise statuses.bad_request("a merge patch must be an object")
    if kind == MERGE_PATCH:
        return lambda live: dict(merge_patch(live, body))
    if kind == STRATEGIC:
        return _strategic(body, type_name)
    raise statuses.unsupported_media_type(content_type)
