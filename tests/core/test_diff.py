"""Table-driven tests of diff: what counts as a change, patches, and masking at the source."""

from __future__ import annotations

from typing import Any

import jsonpatch
import pytest

from reconciler.core import diff, masks

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}


def owned(fields: dict[str, Any]) -> dict[str, Any]:
    return {"managedFields": [{"manager": "stackfleet", "operation": "Apply", "fieldsV1": fields}]}


CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("same data", {**CM, "data": {"a": "1"}}, {**CM, "data": {"a": "1"}}, False),
    ("changed value", {**CM, "data": {"a": "2"}}, {**CM, "data": {"a": "1"}}, True),
    (
        "server-added metadata is not drift",
        {**CM, "data": {"a": "1"}},
        {**CM, "metadata": {**CM["metadata"], "uid": "u", "resourceVersion": "9"}, "data": {"a": "1"}},
        False,
    ),
    (
        "a foreign key in a map is not drift",
        {**CM, "data": {"a": "1"}},
        {**CM, "data": {"a": "1", "z": "9"}},
        False,
    ),
    (
        "a key we owned and dropped is a change",
        {**CM, "data": {"a": "1"}},
        {
            **CM,
            "metadata": {**CM["metadata"], **owned({"f:data": {"f:a": {}, "f:z": {}}})},
            "data": {"a": "1", "z": "9"},
        },
        True,
    ),
    (
        "status is never compared",
        {**CM, "data": {"a": "1"}},
        {**CM, "data": {"a": "1"}, "status": {"x": 1}},
        False,
    ),
]


@pytest.mark.parametrize(("case", "desired", "live", "changed"), CASES, ids=[c[0] for c in CASES])
def test_compare_detects_only_real_changes(
    case: str, desired: dict[str, Any], live: dict[str, Any], changed: bool
) -> None:
    assert diff.compare(desired=desired, live=live).changed is changed


def test_removed_owned_field_patch_removes_it() -> None:
    live = {
        **CM,
        "metadata": {**CM["metadata"], **owned({"f:data": {"f:a": {}, "f:z": {}}})},
        "data": {"a": "1", "z": "9"},
    }
    assert diff.compare(desired={**CM, "data": {"a": "1"}}, live=live).patch == (
        {"op": "remove", "path": "/data/z"},
    )


def test_ignore_pointer_hides_a_field() -> None:
    result = diff.compare(
        desired={**CM, "data": {"a": "1", "b": "x"}},
        live={**CM, "data": {"a": "1", "b": "y"}},
        ignore=["/data/b"],
    )
    assert result.changed is False


def test_create_diff_adds_every_line() -> None:
    text = diff.compare(desired={**CM, "data": {"a": "1"}}, live=None).text
    assert text.splitlines()[:2] == ["--- /dev/null", "+++ desired"]


SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"}}
CANARY = "canary-Zq9xW"
CANARY_B64 = "Y2FuYXJ5LVpxOXhX"
SECRET_CASES = [
    ("stringData create", {**SECRET, "stringData": {"p": CANARY}}, None),
    ("data update", {**SECRET, "data": {"p": CANARY_B64}}, {**SECRET, "data": {"p": "b2xk"}}),
    ("delete", None, {**SECRET, "data": {"p": CANARY_B64}}),
    (
        "sensitive annotation",
        {**CM, "metadata": {**CM["metadata"], "annotations": {"x/db-password": CANARY}}},
        {**CM, "metadata": {**CM["metadata"], "annotations": {"x/db-password": "old"}}},
    ),
]


@pytest.mark.parametrize(("case", "desired", "live"), SECRET_CASES, ids=[c[0] for c in SECRET_CASES])
def test_no_secret_value_in_any_rendering(case: str, desired: Any, live: Any) -> None:
    result = diff.compare(desired=desired, live=live)
    rendered = repr((result.before, result.after, result.patch, result.text))
    assert (CANARY in rendered, CANARY_B64 in rendered, result.changed) == (False, False, True)


def test_masked_values_still_show_a_change() -> None:
    assert masks.marker("a") != masks.marker("b")


PATCH_CASES = [
    ("nested map", {"a": {"b": 1, "c": 2}}, {"a": {"b": 3, "d": 4}}),
    ("list same length", {"l": [{"x": 1}, {"x": 2}]}, {"l": [{"x": 1}, {"x": 5}]}),
    ("list longer", {"l": [1]}, {"l": [1, 2]}),
    ("list shorter by its last", {"l": [1, 2, 3]}, {"l": [1, 2]}),
    ("list loses its middle", {"l": [{"n": "a"}, {"n": "b"}, {"n": "c"}]}, {"l": [{"n": "a"}, {"n": "c"}]}),
    ("list loses two, gains one", {"l": [1, 2, 3, 4, 5]}, {"l": [1, 9, 4]}),
    ("list emptied", {"l": [1, 2]}, {"l": []}),
    ("escaped key", {"metadata": {"labels": {"a/b~c": "1"}}}, {"metadata": {"labels": {"a/b~c": "2"}}}),
    ("from nothing", {}, {"kind": "ConfigMap", "data": {"k": "v"}}),
]


@pytest.mark.parametrize(("case", "before", "after"), PATCH_CASES, ids=[c[0] for c in PATCH_CASES])
def test_patch_turns_before_into_after(case: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    assert jsonpatch.apply_patch(before, list(diff.patch_ops(before, after, path=""))) == after


SHORTENED = [
    ("the last element is removed", [1, 2, 3], [1, 2], [{"op": "remove", "path": "/l/2"}]),
    ("a middle element is removed", ["a", "b", "c"], ["a", "c"], [{"op": "remove", "path": "/l/1"}]),
    ("removals name indices of the live list, last first", [1, 2, 3, 4], [1, 3],
     [{"op": "remove", "path": "/l/3"}, {"op": "remove", "path": "/l/1"}]),
    ("an element changed in place and one removed", [{"n": "a", "v": 1}, {"n": "b"}], [{"n": "a", "v": 2}],
     [{"op": "replace", "path": "/l/0/v", "value": 2}, {"op": "remove", "path": "/l/1"}]),
]


@pytest.mark.parametrize(("case", "before", "after", "ops"), SHORTENED, ids=[c[0] for c in SHORTENED])
def test_a_shortened_list_shows_the_elements_it_loses(case: str, before: list[Any], after: list[Any],
                                                       ops: list[dict[str, Any]]) -> None:
    assert diff.patch_ops({"l": before}, {"l": after}, path="") == ops
