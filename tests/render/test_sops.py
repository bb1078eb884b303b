"""``render.sops``: SOPS files (age) decrypted in memory; a wrong key, a missing key or an edited file
is a RenderError naming the file. Fixtures are encrypted by the test itself (tests/render/sops_files.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.errors import RenderError
from reconciler.render import manifests, sops
from tests.render import sops_files

SECRET: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "apps"},
    "type": "Opaque", "stringData": {"password": "hunter2-\u00e9", "port": 5432, "ratio": 1.5, "tls": True, "empty": ""},
    "data": {"token": "c2VjcmV0"}, "items": [{"k": "v"}, {"k": "w"}],
}


@pytest.fixture(scope="module")
def owner():
    return sops_files.identity()


def keys_of(*identities) -> sops.AgeKeys:
    return sops.AgeKeys.parse("# created: by the test\n" + "\n".join(str(i) for i in identities) + "\n")


@pytest.mark.parametrize("regex", ["", "^(data|stringData)$"], ids=["every-value", "encrypted-regex"])
def test_a_sops_file_decrypts_to_the_document(owner, regex: str) -> None:
    encrypted = sops_files.encrypt(SECRET, [owner.to_public()], encrypted_regex=regex)
    assert "hunter2" not in sops_files.to_yaml(encrypted)
    assert sops.decrypt(encrypted, keys=keys_of(owner), file="s.yaml") == SECRET


def test_any_recipient_can_decrypt(owner) -> None:
    other = sops_files.identity()
    encrypted = sops_files.encrypt(SECRET, [other.to_public(), owner.to_public()])
    assert sops.decrypt(encrypted, keys=keys_of(owner), file="s.yaml") == SECRET


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda d: d["stringData"].update(port=d["stringData"]["tls"]), "does not authenticate", id="moved-value"),
        pytest.param(lambda d: d["metadata"].update(name=d["metadata"]["namespace"]), "does not authenticate",
                     id="swapped-values"),
        pytest.param(lambda d: d["sops"].update(lastmodified="2027-01-01T00:00:00Z"), "does not authenticate",
                     id="lastmodified"),
        pytest.param(lambda d: d["items"].reverse(), "MAC mismatch", id="reordered-list"),
    ],
)
def test_an_edited_file_is_refused(owner, edit, message: str) -> None:
    encrypted = copy.deepcopy(sops_files.encrypt(SECRET, [owner.to_public()]))
    edit(encrypted)
    with pytest.raises(RenderError, match=message) as refused:
        sops.decrypt(encrypted, keys=keys_of(owner), file="stacks/s/1.0.0/x/s.yaml")
    assert "stacks/s/1.0.0/x/s.yaml" in str(refused.value) and "hunter2" not in str(refused.value)


def test_a_wrong_or_missing_key_is_a_clear_error(owner) -> None:
    encrypted = sops_files.encrypt(SECRET, [owner.to_public()])
    with pytest.raises(RenderError, match="no configured age key matches its recipients") as wrong:
        sops.decrypt(encrypted, keys=keys_of(sops_files.identity()), file="s.yaml")
    assert str(owner.to_public()) in str(wrong.value)
    with pytest.raises(RenderError, match="no age key is configured"):
        sops.decrypt(encrypted, keys=None, file="s.yaml")


def test_manifests_decrypt_sops_documents_as_they_are_read(owner) -> None:
    text = sops_files.to_yaml(sops_files.encrypt(SECRET, [owner.to_public()]))
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n"
    docs = manifests.parse(f"{plain}---\n{text}".encode(), file="m.yaml", keys=keys_of(owner))
    assert [d.obj["kind"] for d in docs] == ["ConfigMap", "Secret"] and docs[1].obj == SECRET


def test_the_keys_never_show_in_their_repr(owner) -> None:
    assert str(owner) not in repr(keys_of(owner)) and repr(keys_of(owner)) == "AgeKeys(1 identities)"
