"""``${...}`` substitution rules, one case per row."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.targeting import ClusterInfo
from reconciler.errors import SubstitutionError
from reconciler.render import substitute
from reconciler.spec import yamldocs

VARIABLES = substitute.Variables(
    cluster=ClusterInfo(name="eu-1", labels={"env": "prod", "topology.kubernetes.io/zone": "eu-1a"}),
    values={"replicas": 3, "debug": False, "ingress": {"host": "a.test", "ports": [80, 443]}, "empty": None},
)

CASES: list[tuple[str, Any, Any]] = [
    ("whole reference keeps an int", "${values.replicas}", 3),
    ("whole reference keeps a bool", "${values.debug}", False),
    ("whole reference keeps a mapping", "${values.ingress}", {"host": "a.test", "ports": [80, 443]}),
    ("whole reference keeps null", "${values.empty}", None),
    ("inside a string an int is text", "r${values.replicas}", "r3"),
    ("inside a string a bool is lowercase", "debug=${values.debug}", "debug=false"),
    ("inside a string a list is JSON", "ports ${values.ingress.ports}", "ports [80,443]"),
    ("cluster name", "${cluster.name}.example.test", "eu-1.example.test"),
    ("label with dots and a slash", "${cluster.labels.topology.kubernetes.io/zone}", "eu-1a"),
    ("$${ escapes", "$${values.replicas} is ${values.replicas}", "${values.replicas} is 3"),
    ("whole escaped reference stays text", "$${cluster.name}", "${cluster.name}"),
    ("a lone dollar is left alone", "cost: $5", "cost: $5"),
    ("spaces inside braces are trimmed", "${ values.replicas }", 3),
    ("nested in lists and maps", {"a": [{"b": "${cluster.labels.env}"}]}, {"a": [{"b": "prod"}]}),
    ("keys are not substituted", {"${cluster.name}": 1}, {"${cluster.name}": 1}),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_substitution(data: Any, expected: Any) -> None:
    assert substitute.substitute(data, variables=VARIABLES, where=substitute.Where("f.yaml")) == expected


UNDEFINED = [
    "${values.missing}",
    "x ${values.ingress.nope}",
    "${cluster.labels.team}",
    "${cluster.uid}",
    "${}",
]


@pytest.mark.parametrize("text", UNDEFINED)
def test_undefined_variable_is_an_error_never_an_empty_string(text: str) -> None:
    with pytest.raises(SubstitutionError, match="undefined variable"):
        substitute.substitute({"k": text}, variables=VARIABLES, where=substitute.Where("f.yaml"))


def test_error_names_file_and_line() -> None:
    (doc,) = yamldocs.load_documents(
        b"kind: ConfigMap\ndata:\n  a: ok\n  b: ${values.nope}\n", file="m/cm.yaml"
    )
    with pytest.raises(SubstitutionError) as caught:
        substitute.substitute(doc.data, variables=VARIABLES, where=substitute.Where(doc.file, doc.lines))
    assert caught.value.about == {"file": "m/cm.yaml", "line": 4, "field": "data.b"}
