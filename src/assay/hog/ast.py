"""Syntax tree for Hog programs. Every node records the 1-based line and column where it starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(kw_only=True)
class Node:
    """Base of every syntax node."""

    line: int = 0
    column: int = 0


# ---------------------------------------------------------------- expressions


@dataclass(kw_only=True)
class Expr(Node):
    """Base of expression nodes."""


@dataclass(kw_only=True)
class Constant(Expr):
    """A literal: int, float, str, bool or None."""

    value: Any


@dataclass(kw_only=True)
class Field(Expr):
    """A name followed by zero or more `.name` / `.1` parts, e.g. `properties.$browser`."""

    chain: list[str | int]


@dataclass(kw_only=True)
class PropertyAccess(Expr):
    """`obj[key]`, `obj?.[key]`, `(expr).name` or `obj?.name`."""

    obj: Expr
    key: Expr
    nullish: bool = False


@dataclass(kw_only=True)
class ArrayLiteral(Expr):
    """`[a, b, c]`."""

    items: list[Expr]


@dataclass(kw_only=True)
class TupleLiteral(Expr):
    """`(a, b)`."""

    items: list[Expr]


@dataclass(kw_only=True)
class DictLiteral(Expr):
    """`{key: value, ...}`."""

    items: list[tuple[Expr, Expr]]


@dataclass(kw_only=True)
class BinaryOp(Expr):
    """Arithmetic or comparison: `op` is the canonical operator name (e.g. `+`, `==`, `not like`)."""

    op: str
    left: Expr
    right: Expr


@dataclass(kw_only=True)
class Between(Expr):
    """`expr [not] between low and high`."""

    expr: Expr
    low: Expr
    high: Expr
    negated: bool = False


@dataclass(kw_only=True)
class And(Expr):
    """`a and b and c` (flattened)."""

    exprs: list[Expr]


@dataclass(kw_only=True)
class Or(Expr):
    """`a or b or c` (flattened)."""

    exprs: list[Expr]


@dataclass(kw_only=True)
class Not(Expr):
    """`not expr`."""

    expr: Expr


@dataclass(kw_only=True)
class Call(Expr):
    """A call of a plain name: `name(args)`; resolves to a local, an upvalue or a global function."""

    name: str
    args: list[Expr]


@dataclass(kw_only=True)
class ExprCall(Expr):
    """A call of any other expression: `(x -> x)(1)`, `obj.fn(2)`, `f(1)(2)`."""

    callee: Expr
    args: list[Expr]


@dataclass(kw_only=True)
class Lambda(Expr):
    """`(a, b) -> expr` or `(a) -> { ... }`."""

    params: list[str]
    body: Expr | Block


# ---------------------------------------------------------------- statements


@dataclass(kw_only=True)
class Statement(Node):
    """Base of statement nodes."""


@dataclass(kw_only=True)
class Block(Statement):
    """`{ declarations }`."""

    body: list[Statement] = field(default_factory=list)


@dataclass(kw_only=True)
class Program(Node):
    """A whole program."""

    body: list[Statement] = field(default_factory=list)


@dataclass(kw_only=True)
class ExprStatement(Statement):
    """An expression evaluated for its side effects."""

    expr: Expr


@dataclass(kw_only=True)
class VarDecl(Statement):
    """`let name [:= expr]`."""

    name: str
    expr: Expr | None = None


@dataclass(kw_only=True)
class Assign(Statement):
    """`target := value` where target is a name, `a.b` or `a[i]`."""

    target: Expr
    value: Expr


@dataclass(kw_only=True)
class If(Statement):
    """`if (cond) then [else other]`."""

    cond: Expr
    then: Statement
    otherwise: Statement | None = None


@dataclass(kw_only=True)
class While(Statement):
    """`while (cond) body`."""

    cond: Expr
    body: Statement


@dataclass(kw_only=True)
class For(Statement):
    """C-style `for (init; cond; step) body`; each part is optional."""

    init: Statement | None
    cond: Expr | None
    step: Statement | None
    body: Statement


@dataclass(kw_only=True)
class ForIn(Statement):
    """`for (let [key,] value in expr) body`."""

    key_var: str | None
    value_var: str
    expr: Expr
    body: Statement


@dataclass(kw_only=True)
class Function(Statement):
    """`fun name(params) { body }`."""

    name: str
    params: list[str]
    body: Block


@dataclass(kw_only=True)
class Return(Statement):
    """`return [expr]`."""

    expr: Expr | None = None


@dataclass(kw_only=True)
class Throw(Statement):
    """`throw expr`."""

    expr: Expr


@dataclass(kw_only=True)
class Catch(Node):
    """One `catch (var: Type) { ... }` clause; var and type are optional."""

    var: str | None
    type_name: str | None
    body: Block


@dataclass(kw_only=True)
class Try(Statement):
    """`try { ... } catch ... [finally { ... }]`."""

    body: Block
    catches: list[Catch]
    finally_body: Block | None = None
