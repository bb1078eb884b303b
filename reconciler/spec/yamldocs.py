"""Safe YAML reading with line numbers, duplicate-key detection and limits.

Every YAML file of a fleet repo (specs, manifests, values files) is read here. A document comes back
as plain data plus a ``LineIndex`` that maps a field path to the line it was written on, so errors can
name ``file:line``. Reading is bounded: duplicate keys are errors, and alias bombs, huge files and
files with too many documents are rejected quickly and with bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from reconciler.errors import YamlError

try:  # libyaml is much faster; marks (lines) work the same
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Limits:
    """Bounds on what one file may hold."""

    max_documents: int = 10_000
    max_nodes: int = 1_000_000
    """Nodes visited while building a file's data, counting every expansion of an alias."""
    max_depth: int = 200


DEFAULT_LIMITS = Limits()


@dataclass
class LineIndex:
    """Line numbers (1-based) of the fields of one document, by path."""

    lines: dict[Path_, int] = field(default_factory=dict)
    start: int = 1

    def line_of(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return self.start


@dataclass(frozen=True)
class Document:
    """One YAML document of a file: its data, where it starts, and the lines of its fields."""

    file: str
    index: int
    data: Any
    lines: LineIndex

    @property
    def line(self) -> int:
        return self.lines.start


def load_documents(data: bytes, *, file: str, limits: Limits = DEFAULT_LIMITS) -> list[Document]:
    """All documents of a YAML (or JSON) file, empty documents dropped. Raises ``YamlError``."""
    text = _decode(data, file=file)
    docs: list[Document] = []
    budget = _Budget(limits=limits, file=file)
    try:
        for i, node in enumerate(_compose_all(text)):
            if i >= limits.max_documents:
                raise YamlError(f"more than {limits.max_documents} documents", file=file, line=_line(node))
            if node is None:
                continue
            budget.check_expansion(node)
            lines = LineIndex(start=_line(node))
            value = _build(node, (), lines, budget, depth=0)
            if value is not None:
                docs.append(Document(file=file, index=i, data=value, lines=lines))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlError(f"malformed YAML: {exc.problem or exc.context}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"malformed YAML: {exc}", file=file) from None
    return docs


def load_one(data: bytes, *, file: str, limits: Limits = DEFAULT_LIMITS) -> Document | None:
    """The single document of a file (``None`` when empty); more than one is an error."""
    docs = load_documents(data, file=file, limits=limits)
    if len(docs) > 1:
        raise YamlError("expected one YAML document, found several", file=file, line=docs[1].line)
    return docs[0] if docs else None


def _decode(data: bytes, *, file: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlError("file is not valid UTF-8", file=file, line=line) from None


def _compose_all(text: str) -> Iterator[yaml.Node | None]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()


@dataclass
class _Budget:
    limits: Limits
    file: str
    nodes: int = 0

    def check_expansion(self, root: yaml.Node) -> None:
        """Reject before building when aliases would expand the document past the node limit.

        Sizes are memoised per node, so this costs one visit per distinct node however deep the
        aliases nest (a billion-laughs document is refused in microseconds).
        """
        sizes: dict[int, int] = {}
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            if id(node) in sizes:
                continue
            kids = _children(node)
            if children_done or not kids:
                sizes[id(node)] = 1 + sum(sizes[id(k)] for k in kids)
                if sizes[id(node)] > self.limits.max_nodes:
                    raise YamlError(
                        f"document expands to more than {self.limits.max_nodes} nodes (alias bomb?)",
                        file=self.file,
                        line=_line(node),
                    )
                continue
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)

    def spend(self, node: yaml.Node) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise YamlError(
                f"document expands to more than {self.limits.max_nodes} nodes (alias bomb?)",
                file=self.file,
                line=_line(node),
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 1


_SCALARS = yaml.SafeLoader("")
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_VALUE = "tag:yaml.org,2002:value"
_AS_TEXT = frozenset({_TIMESTAMP, _VALUE})
"""Tags read as their text, as go-yaml (Helm, kubectl, the API server) reads them: a timestamp stays
text in Kubernetes' YAML-to-JSON conversion, and a plain ``=`` (YAML 1.1's ``value`` tag, which PyYAML
resolves but cannot construct) is the string ``"="`` (go-yaml has no such tag)."""


def _scalar(node: yaml.Node) -> Any:
    if node.tag in _AS_TEXT:
        return node.value
    return _SCALARS.construct_object(node, deep=True)


def _build(node: yaml.Node, path: Path_, lines: LineIndex, budget: _Budget, *, depth: int) -> Any:
    budget.spend(node)
    if depth > budget.limits.max_depth:
        raise YamlError(f"nesting deeper than {budget.limits.max_depth}", file=budget.file, line=_line(node))
    lines.lines.setdefault(path, _line(node))
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(node, path, lines, budget, depth=depth)
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, budget, depth=depth + 1) for i, item in enumerate(node.value)]
    return _scalar(node)


def _build_mapping(
    node: yaml.MappingNode, path: Path_, lines: LineIndex, budget: _Budget, *, depth: int
) -> dict[Any, Any]:
    _SCALARS.flatten_mapping(node)  # resolves YAML merge keys (<<) in place
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise YamlError("mapping keys must be scalars", file=budget.file, line=_line(key_node))
        key = _scalar(key_node)
        if key in out:
            raise YamlError(f"duplicate key {key!r}", file=budget.file, line=_line(key_node))
        child = (*path, key)
        lines.lines[child] = _line(key_node)
        out[key] = _build(value_node, child, lines, budget, depth=depth + 1)
    return out
