"""A small CEL-like expression language over an object, for fleet-defined health rules. Pure, no ``eval``.

::

    rule = expressions.parse("status.phase == 'Ready' && status.conditions.exists(c, c.type == 'Synced')")
    expressions.evaluate(rule, {"status": {...}, "spec": {...}, "metadata": {...}})   # -> True / False

What it reads (the subset of CEL that health checks need):

- literals ``'text'`` / ``"text"``, integers, decimals, ``true``, ``false``, ``null``, lists ``[a, b]``;
- names (``status``, ``spec``, ``metadata``, ``object``), fields ``a.b``, indexes ``a[0]`` / ``a['key']``;
- ``!``, unary ``-``, ``+`` (numbers, strings, lists), ``-`` (numbers), ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``, ``&&``, ``||``, parentheses;
- ``has(a.b)`` (is the field there), ``size(x)`` / ``x.size()``, ``int(x)``, ``string(x)``,
  ``s.startsWith(p)``, ``s.endsWith(p)``, ``s.contains(p)``, and the macros ``list.exists(v, pred)``,
  ``list.all(v, pred)``, ``list.exists_one(v, pred)``.

Unlike CEL, a missing field reads as ``null`` instead of failing (so ``status.phase == 'Ready'`` is
simply false before a controller wrote any status); ``has()`` tells a missing field from a ``null``
one. Ordering values of different types (``'a' < 1``) is an ``EvaluationError``. A malformed
expression is an ``ExpressionError`` (a ``ValueError``) naming the column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"""\s*(?:(?P<number>\d+\.\d+|\d+)|(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
                    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\].,+\-]))""", re.X)
_MISSING = object()
MACROS = frozenset({"exists", "all", "exists_one"})
_COMPARE = frozenset({"==", "!=", "<", "<=", ">", ">=", "in"})


class ExpressionError(ValueError):
    """A malformed expression."""


class EvaluationError(ValueError):
    """An expression that cannot be evaluated on this object (comparing a string with a number, ...)."""


@dataclass(frozen=True)
class Node:
    op: str
    """``lit``, ``name``, ``field``, ``index``, ``call``, ``method``, ``macro``, ``list``, ``not``, ``neg``,
    ``and``, ``or`` or a comparison operator."""
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Expression:
    source: str
    root: Node


# ---- parsing --------------------------------------------------------------------------------------


def parse(source: str) -> Expression:
    """The parsed ``source``; raises ``ExpressionError`` naming the column of the first problem."""
    parser = _Parser(source, _tokens(source))
    root = parser.expression()
    if parser.peek() is not None:
        raise parser.error("unexpected text after the expression")
    return Expression(source, root)


def _tokens(source: str) -> list[tuple[str, str, int]]:
    found, at = [], 0
    while source[at:].strip():
        match = _TOKEN.match(source, at)
        if match is None or match.end() == at:
            start = len(source) - len(source[at:].lstrip())
            raise ExpressionError(f"at column {start + 1}: cannot read {source[start:][:10]!r}")
        kind = match.lastgroup or "op"
        found.append((kind, match.group(kind), match.start(kind) + 1))
        at = match.end()
    return found


class _Parser:
    def __init__(self, source: str, tokens: list[tuple[str, str, int]]) -> None:
        self.source, self.tokens, self.at = source, tokens, 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, text: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if token is None or (text is not None and token[1] != text):
            raise self.error(f"expected {text!r}" if text else "unexpected end of the expression")
        self.at += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] == text:
            self.at += 1
            return True
        return False

    def error(self, message: str) -> ExpressionError:
        token = self.peek()
        column = token[2] if token else len(self.source) + 1
        return ExpressionError(f"at column {column}: {message}")

    def expression(self) -> Node:
        left = self.conjunction()
        while self.accept("||"):
            left = Node("or", (left, self.conjunction()))
        return left

    def conjunction(self) -> Node:
        left = self.comparison()
        while self.accept("&&"):
            left = Node("and", (left, self.comparison()))
        return left

    def comparison(self) -> Node:
        left = self.sum()
        token = self.peek()
        if token is not None and token[1] in _COMPARE and token[0] in ("op", "name"):
            self.at += 1
            return Node(token[1], (left, self.sum()))
        return left

    def sum(self) -> Node:
        left = self.unary()
        while True:
            if self.accept("+"):
                left = Node("add", (left, self.unary()))
            elif self.accept("-"):
                left = Node("sub", (left, self.unary()))
            else:
                return left

    def unary(self) -> Node:
        if self.accept("!"):
            return Node("not", (self.unary(),))
        if self.accept("-"):
            return Node("neg", (self.unary(),))
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.accept("."):
                name = self.take()
                if name[0] != "name":
                    raise self.error("expected a field name after '.'")
                node = self.method(node, name[1]) if self.accept("(") else Node("field", (node, name[1]))
            elif self.accept("["):
                node = Node("index", (node, self.expression()))
                self.take("]")
            else:
                return node

    def method(self, target: Node, name: str) -> Node:
        if name in MACROS:
            variable = self.peek()
            if variable is None or variable[0] != "name":
                raise self.error(f"{name}() needs a variable name first")
            self.at += 1
            self.take(",")
            body = self.expression()
            self.take(")")
            return Node("macro", (name, target, variable[1], body))
        return Node("method", (name, target, *self.arguments()))

    def arguments(self) -> tuple[Node, ...]:
        found: list[Node] = []
        while not self.accept(")"):
            if found:
                self.take(",")
            found.append(self.expression())
        return tuple(found)

    def primary(self) -> Node:
        kind, text, _ = self.take()
        if kind == "number":
            return Node("lit", (float(text) if "." in text else int(text),))
        if kind == "string":
            return Node("lit", (re.sub(r"\\(.)", r"\1", text[1:-1]),))
        if kind == "name":
            if text in _CONSTANTS:
                return Node("lit", (_CONSTANTS[text],))
            return Node("call", (text, *self.arguments())) if self.accept("(") else Node("name", (text,))
        if text == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if text == "[":
            items: list[Node] = []
            while not self.accept("]"):
                if items:
                    self.take(",")
                items.append(self.expression())
            return Node("list", tuple(items))
        self.at -= 1
        raise self.error(f"unexpected {text!r}")


_CONSTANTS: Mapping[str, Any] = {"true": True, "false": False, "null": None}


# ---- evaluation -----------------------------------------------------------------------------------


def evaluate(expression: Expression, variables: Mapping[str, Any]) -> Any:
    """The value of ``expression`` with ``variables`` (``EvaluationError`` when it cannot be had)."""
    found = _eval(expression.root, variables)
    return None if found is _MISSING else found


def truthy(expression: Expression, variables: Mapping[str, Any]) -> bool:
    """True only when ``expression`` evaluates to ``true``."""
    return evaluate(expression, variables) is True


def _eval(node: Node, env: Mapping[str, Any]) -> Any:
    return _RULES[node.op if node.op in _RULES else "compare"](node, env)


def _value(node: Node, env: Mapping[str, Any]) -> Any:
    found = _eval(node, env)
    return None if found is _MISSING else found


def _field(node: Node, env: Mapping[str, Any]) -> Any:
    target = _eval(node.args[0], env)
    return target.get(node.args[1], _MISSING) if isinstance(target, Mapping) else _MISSING


def _index(node: Node, env: Mapping[str, Any]) -> Any:
    target, key = _eval(node.args[0], env), _value(node.args[1], env)
    if isinstance(target, Mapping):
        return target.get(key, _MISSING)
    if isinstance(target, list) and isinstance(key, int) and not isinstance(key, bool) and -len(target) <= key < len(target):
        return target[key]
    return _MISSING


def _logic(node: Node, env: Mapping[str, Any]) -> bool:
    left = _value(node.args[0], env) is True
    if node.op == "and":
        return left and _value(node.args[1], env) is True
    return left or _value(node.args[1], env) is True


def _compare(node: Node, env: Mapping[str, Any]) -> bool:
    left, right = _value(node.args[0], env), _value(node.args[1], env)
    if node.op == "==":
        return bool(_same(left, right))
    if node.op == "!=":
        return not _same(left, right)
    if node.op == "in":
        return any(_same(left, item) for item in right) if isinstance(right, list) else (
            isinstance(right, Mapping) and left in right)
    if left is None or right is None:
        return False
    if _kind(left) != _kind(right):
        raise EvaluationError(f"cannot order {_kind(left)} and {_kind(right)} in {node.op!r}")
    return bool({"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[node.op])


def _same(left: Any, right: Any) -> bool:
    return _kind(left) == _kind(right) and left == right


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, int | float) else type(value).__name__


def _call(node: Node, env: Mapping[str, Any]) -> Any:
    name, *args = node.args
    if name == "has":
        if len(args) != 1 or args[0].op not in ("field", "index"):
            raise EvaluationError("has() takes one field, such as has(status.ready)")
        return _eval(args[0], env) is not _MISSING
    return _function(name, [_value(a, env) for a in args])


def _method(node: Node, env: Mapping[str, Any]) -> Any:
    name, target, *args = node.args
    return _function(name, [_value(target, env), *(_value(a, env) for a in args)])


_FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "size": lambda v: len(v) if isinstance(v, str | list | Mapping) else 0,
    "int": lambda v: int(v),
    "string": lambda v: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v),
    "startsWith": lambda s, p: isinstance(s, str) and isinstance(p, str) and s.startswith(p),
    "endsWith": lambda s, p: isinstance(s, str) and isinstance(p, str) and s.endswith(p),
    "contains": lambda s, p: isinstance(s, str) and isinstance(p, str) and p in s,
}


def _function(name: str, args: Sequence[Any]) -> Any:
    found = _FUNCTIONS.get(name)
    if found is None:
        raise EvaluationError(f"no function {name}()")
    try:
        return found(*args)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(f"{name}() cannot take {', '.join(_kind(a) for a in args)}") from exc


def _macro(node: Node, env: Mapping[str, Any]) -> bool:
    name, target, variable, body = node.args
    items = _value(target, env)
    items = list(items) if isinstance(items, list | Mapping) else []
    hits = sum(1 for item in items if _value(body, {**env, variable: item}) is True)
    return {"exists": hits > 0, "all": hits == len(items), "exists_one": hits == 1}[name]


def _arithmetic(node: Node, env: Mapping[str, Any]) -> Any:
    left, right = _value(node.args[0], env), _value(node.args[1], env)
    kinds = (_kind(left), _kind(right))
    if node.op == "add" and kinds[0] == kinds[1] and kinds[0] in ("number", "str", "list"):
        return left + right
    if node.op == "sub" and kinds == ("number", "number"):
        return left - right
    raise EvaluationError(f"cannot {'add' if node.op == 'add' else 'subtract'} {kinds[0]} and {kinds[1]}")


_RULES: Mapping[str, Callable[[Node, Mapping[str, Any]], Any]] = {
    "lit": lambda n, _: n.args[0],
    "name": lambda n, env: env.get(n.args[0], _MISSING),
    "list": lambda n, env: [_value(a, env) for a in n.args],
    "not": lambda n, env: _value(n.args[0], env) is not True,
    "neg": lambda n, env: -_number(_value(n.args[0], env)),
    "field": _field,
    "index": _index,
    "and": _logic,
    "or": _logic,
    "call": _call,
    "method": _method,
    "macro": _macro,
    "compare": _compare,
    "add": _arithmetic,
    "sub": _arithmetic,
}


def _number(value: Any) -> int | float:
    if _kind(value) != "number":
        raise EvaluationError(f"cannot negate {_kind(value)}")
    return value  # type: ignore[no-any-return]
