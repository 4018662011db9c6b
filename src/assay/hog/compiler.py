"""Compile Hog source to HogVM bytecode (``["_H", 1, ...]``), compatible with `@posthog/hogvm`.

Stack conventions of the VM that shape the output:
- binary operators take their left operand from the top of the stack, so the right operand is pushed first;
- call arguments are pushed in order, followed (for CALL_LOCAL) by the closure itself;
- jump offsets count from the instruction after the offset operand;
- locals live in stack slots, numbered from the frame's start; leaving a scope pops them
  (CLOSE_UPVALUE instead of POP when a closure captured the slot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assay.hog import ast
from assay.hog.errors import HogSyntaxError
from assay.hog.opcodes import BYTECODE_MARKER, BYTECODE_VERSION, Operation
from assay.hog.parser import parse_program

_BINARY_OPS: dict[str, Operation] = {
    "+": Operation.PLUS,
    "-": Operation.MINUS,
    "*": Operation.MULTIPLY,
    "/": Operation.DIVIDE,
    "%": Operation.MOD,
    "==": Operation.EQ,
    "!=": Operation.NOT_EQ,
    ">": Operation.GT,
    ">=": Operation.GT_EQ,
    "<": Operation.LT,
    "<=": Operation.LT_EQ,
    "like": Operation.LIKE,
    "ilike": Operation.ILIKE,
    "not like": Operation.NOT_LIKE,
    "not ilike": Operation.NOT_ILIKE,
    "in": Operation.IN,
    "not in": Operation.NOT_IN,
    "=~": Operation.REGEX,
    "!~": Operation.NOT_REGEX,
    "=~*": Operation.IREGEX,
    "!~*": Operation.NOT_IREGEX,
}

Bytecode = list[Any]


@dataclass
class _Local:
    name: str
    depth: int
    captured: bool = False


@dataclass
class _UpValue:
    index: int
    is_local: bool


@dataclass
class _FunctionCompiler:
    """Compiles one function body (or the top-level program); nested functions get their own."""

    enclosing: _FunctionCompiler | None = None
    locals: list[_Local] = field(default_factory=list)
    upvalues: list[_UpValue] = field(default_factory=list)
    depth: int = 0

    # ------------------------------------------------------------ scopes and names

    def _error(self, message: str, node: ast.Node) -> HogSyntaxError:
        return HogSyntaxError(message, node.line, node.column)

    def _begin_scope(self) -> None:
        self.depth += 1

    def _end_scope(self) -> Bytecode:
        self.depth -= 1
        out: Bytecode = []
        while self.locals and self.locals[-1].depth > self.depth:
            local = self.locals.pop()
            out.append(Operation.CLOSE_UPVALUE if local.captured else Operation.POP)
        return out

    def _declare(self, name: str, node: ast.Node) -> int:
        for local in reversed(self.locals):
            if local.depth < self.depth:
                break
            if local.name == name:
                raise self._error(f"Variable `{name}` already declared in this scope", node)
        self.locals.append(_Local(name, self.depth))
        return len(self.locals) - 1

    def _resolve_local(self, name: str) -> int:
        for index in range(len(self.locals) - 1, -1, -1):
            if self.locals[index].name == name:
                return index
        return -1

    def _add_upvalue(self, index: int, is_local: bool) -> int:
        for i, upvalue in enumerate(self.upvalues):
            if upvalue.index == index and upvalue.is_local == is_local:
                return i
        self.upvalues.append(_UpValue(index, is_local))
        return len(self.upvalues) - 1

    def _resolve_upvalue(self, name: str) -> int:
        if self.enclosing is None:
            return -1
        index = self.enclosing._resolve_local(name)
        if index != -1:
            self.enclosing.locals[index].captured = True
            return self._add_upvalue(index, True)
        outer = self.enclosing._resolve_upvalue(name)
        if outer != -1:
            return self._add_upvalue(outer, False)
        return -1

    def _load_name(self, name: str) -> Bytecode | None:
        """GET_LOCAL/GET_UPVALUE for a visible variable, or None if the name is global."""
        index = self._resolve_local(name)
        if index != -1:
            return [Operation.GET_LOCAL, index]
        upvalue = self._resolve_upvalue(name)
        if upvalue != -1:
            return [Operation.GET_UPVALUE, upvalue]
        return None

    # ------------------------------------------------------------ statements

    def program(self, node: ast.Program) -> Bytecode:
        self._begin_scope()
        out: Bytecode = []
        for statement in node.body:
            out.extend(self.statement(statement))
        out.extend(self._end_scope())
        return out

    def statement(self, node: ast.Statement) -> Bytecode:
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:  # pragma: no cover - every statement node has a handler
            raise self._error(f"Unsupported statement {type(node).__name__}", node)
        result: Bytecode = method(node)
        return result

    def stmt_Block(self, node: ast.Block) -> Bytecode:
        self._begin_scope()
        out: Bytecode = []
        for statement in node.body:
            out.extend(self.statement(statement))
        out.extend(self._end_scope())
        return out

    def stmt_ExprStatement(self, node: ast.ExprStatement) -> Bytecode:
        return [*self.expr(node.expr), Operation.POP]

    def stmt_VarDecl(self, node: ast.VarDecl) -> Bytecode:
        value = self.expr(node.expr) if node.expr is not None else [Operation.NULL]
        self._declare(node.name, node)  # declared after the value: `let x := x` reads an outer x
        return value

    def stmt_Assign(self, node: ast.Assign) -> Bytecode:
        target = node.target
        if isinstance(target, ast.PropertyAccess):
            return [*self.expr(target.obj), *self.expr(target.key), *self.expr(node.value), Operation.SET_PROPERTY]
        assert isinstance(target, ast.Field)
        name = str(target.chain[0])
        index = self._resolve_local(name)
        upvalue = -1 if index != -1 else self._resolve_upvalue(name)
        if index == -1 and upvalue == -1:
            raise self._error(f'Variable "{name}" not declared in this scope. Can not assign to globals.', target)
        if len(target.chain) == 1:
            op = Operation.SET_LOCAL if index != -1 else Operation.SET_UPVALUE
            return [*self.expr(node.value), op, index if index != -1 else upvalue]
        out: Bytecode = [Operation.GET_LOCAL, index] if index != -1 else [Operation.GET_UPVALUE, upvalue]
        for element in target.chain[1:-1]:
            out.extend([*self._key(element), Operation.GET_PROPERTY])
        out.extend([*self._key(target.chain[-1]), *self.expr(node.value), Operation.SET_PROPERTY])
        return out

    @staticmethod
    def _key(element: str | int) -> Bytecode:
        if isinstance(element, int):
            return [Operation.INTEGER, element]
        return [Operation.STRING, element]

    def stmt_If(self, node: ast.If) -> Bytecode:
        cond = self.expr(node.cond)
        then = self.statement(node.then)
        out: Bytecode = [*cond]
        if node.otherwise is None:
            return [*out, Operation.JUMP_IF_FALSE, len(then), *then]
        otherwise = self.statement(node.otherwise)
        return [*out, Operation.JUMP_IF_FALSE, len(then) + 2, *then, Operation.JUMP, len(otherwise), *otherwise]

    def stmt_While(self, node: ast.While) -> Bytecode:
        cond = self.expr(node.cond)
        body = self.statement(node.body)
        out: Bytecode = [*cond, Operation.JUMP_IF_FALSE, len(body) + 2, *body]
        return [*out, Operation.JUMP, -(len(out) + 2)]

    def stmt_For(self, node: ast.For) -> Bytecode:
        self._begin_scope()
        init = self.statement(node.init) if node.init is not None else []
        cond = self.expr(node.cond) if node.cond is not None else [Operation.TRUE]
        body = self.statement(node.body)
        step = self.statement(node.step) if node.step is not None else []
        loop: Bytecode = [*cond, Operation.JUMP_IF_FALSE, len(body) + len(step) + 2, *body, *step]
        return [*init, *loop, Operation.JUMP, -(len(loop) + 2), *self._end_scope()]

    def stmt_ForIn(self, node: ast.ForIn) -> Bytecode:
        self._begin_scope()
        out: Bytecode = self.expr(node.expr)
        source = self._declare("__H_expr_H__", node)
        keys = -1
        if node.key_var is not None:
            out.extend([Operation.GET_LOCAL, source, Operation.CALL_GLOBAL, "keys", 1])
            keys = self._declare("__H_keys_H__", node)
        out.extend([Operation.GET_LOCAL, source, Operation.CALL_GLOBAL, "values", 1])
        values = self._declare("__H_values_H__", node)
        out.extend([Operation.INTEGER, 1])
        index = self._declare("__H_index_H__", node)
        out.extend([Operation.GET_LOCAL, values, Operation.CALL_GLOBAL, "length", 1])
        limit = self._declare("__H_limit_H__", node)
        key_slot = -1
        if node.key_var is not None:
            out.append(Operation.NULL)
            key_slot = self._declare(node.key_var, node)
        out.append(Operation.NULL)
        value_slot = self._declare(node.value_var, node)

        cond: Bytecode = [Operation.GET_LOCAL, limit, Operation.GET_LOCAL, index, Operation.LT_EQ]
        body: Bytecode = []
        if node.key_var is not None:
            body.extend([Operation.GET_LOCAL, keys, Operation.GET_LOCAL, index, Operation.GET_PROPERTY])
            body.extend([Operation.SET_LOCAL, key_slot])
        body.extend([Operation.GET_LOCAL, values, Operation.GET_LOCAL, index, Operation.GET_PROPERTY])
        body.extend([Operation.SET_LOCAL, value_slot])
        body.extend(self.statement(node.body))
        body.extend([Operation.INTEGER, 1, Operation.GET_LOCAL, index, Operation.PLUS, Operation.SET_LOCAL, index])
        loop: Bytecode = [*cond, Operation.JUMP_IF_FALSE, len(body) + 2, *body]
        out.extend([*loop, Operation.JUMP, -(len(loop) + 2)])
        out.extend(self._end_scope())
        return out

    def stmt_Function(self, node: ast.Function) -> Bytecode:
        self._declare(node.name, node)
        return self._callable(node.name, node.params, node.body, node)

    def stmt_Return(self, node: ast.Return) -> Bytecode:
        value = self.expr(node.expr) if node.expr is not None else [Operation.NULL]
        return [*value, Operation.RETURN]

    def stmt_Throw(self, node: ast.Throw) -> Bytecode:
        return [*self.expr(node.expr), Operation.THROW]

    def stmt_Try(self, node: ast.Try) -> Bytecode:
        if node.finally_body is not None:
            raise self._error("finally blocks are not supported", node.finally_body)
        body = self.statement(node.body)
        # On a throw the VM truncates the stack to its size at TRY and pushes the error.
        self._begin_scope()
        error_slot = self._declare("e", node)
        handlers: Bytecode = [Operation.GET_LOCAL, error_slot, Operation.STRING, "type", Operation.GET_PROPERTY]
        type_slot = self._declare("type", node)
        exits: list[int] = []  # positions of JUMP offsets that leave the handlers
        for catch in node.catches:
            var = catch.var or "e"
            type_name = catch.type_name or "Error"
            self._begin_scope()
            handler: Bytecode = []
            if var != "e":
                self._declare(var, catch)
                handler.extend([Operation.GET_LOCAL, error_slot])
            handler.extend(self.statement(catch.body))
            handler.extend(self._end_scope())
            if type_name == "Error":
                handlers.extend(handler)
            else:
                test: Bytecode = [Operation.STRING, type_name, Operation.GET_LOCAL, type_slot, Operation.EQ]
                handlers.extend([*test, Operation.JUMP_IF_FALSE, len(handler) + 2, *handler])
            handlers.extend([Operation.JUMP, None])
            exits.append(len(handlers) - 1)
        handlers.extend([Operation.POP, Operation.THROW])  # nothing matched: drop `type`, rethrow `e`
        cleanup = self._end_scope()
        for position in exits:
            handlers[position] = len(handlers) - position - 1
        handlers.extend(cleanup)
        return [
            Operation.TRY,
            len(body) + 4,  # the VM counts from the TRY opcode itself, not from its operand
            *body,
            Operation.POP_TRY,
            Operation.JUMP,
            len(handlers),
            *handlers,
        ]

    def _callable(self, name: str, params: list[str], body: ast.Block | ast.Expr, node: ast.Node) -> Bytecode:
        inner = _FunctionCompiler(enclosing=self)
        for param in params:
            inner._declare(param, node)
        if isinstance(body, ast.Block):
            statements = list(body.body)
            if not statements or not isinstance(statements[-1], ast.Return):
                statements.append(ast.Return(expr=None, line=body.line, column=body.column))
            code = inner.stmt_Block(ast.Block(body=statements, line=body.line, column=body.column))
        else:
            code = inner.stmt_Return(ast.Return(expr=body, line=body.line, column=body.column))
        out: Bytecode = [Operation.CALLABLE, name, len(params), len(inner.upvalues), len(code), *code]
        out.extend([Operation.CLOSURE, len(inner.upvalues)])
        for upvalue in inner.upvalues:
            out.extend([upvalue.is_local, upvalue.index])
        return out

    # ------------------------------------------------------------ expressions

    def expr(self, node: ast.Expr) -> Bytecode:
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:  # pragma: no cover - every expression node has a handler
            raise self._error(f"Unsupported expression {type(node).__name__}", node)
        result: Bytecode = method(node)
        return result

    def expr_Constant(self, node: ast.Constant) -> Bytecode:
        value = node.value
        if value is True:
            return [Operation.TRUE]
        if value is False:
            return [Operation.FALSE]
        if value is None:
            return [Operation.NULL]
        if isinstance(value, int):
            return [Operation.INTEGER, value]
        if isinstance(value, float):
            return [Operation.FLOAT, value]
        if isinstance(value, str):
            return [Operation.STRING, value]
        raise self._error(f"Unsupported constant {value!r}", node)

    def expr_Field(self, node: ast.Field) -> Bytecode:
        load = self._load_name(str(node.chain[0]))
        if load is not None:
            for element in node.chain[1:]:
                load.extend([*self._key(element), Operation.GET_PROPERTY])
            return load
        out: Bytecode = []
        for element in reversed(node.chain):
            out.extend([Operation.STRING, element])
        return [*out, Operation.GET_GLOBAL, len(node.chain)]

    def expr_PropertyAccess(self, node: ast.PropertyAccess) -> Bytecode:
        op = Operation.GET_PROPERTY_NULLISH if node.nullish else Operation.GET_PROPERTY
        return [*self.expr(node.obj), *self.expr(node.key), op]

    def _sequence(self, items: list[ast.Expr]) -> Bytecode:
        out: Bytecode = []
        for item in items:
            out.extend(self.expr(item))
        return out

    def expr_ArrayLiteral(self, node: ast.ArrayLiteral) -> Bytecode:
        return [*self._sequence(node.items), Operation.ARRAY, len(node.items)]

    def expr_TupleLiteral(self, node: ast.TupleLiteral) -> Bytecode:
        return [*self._sequence(node.items), Operation.TUPLE, len(node.items)]

    def expr_DictLiteral(self, node: ast.DictLiteral) -> Bytecode:
        out: Bytecode = []
        for key, value in node.items:
            out.extend([*self.expr(key), *self.expr(value)])
        return [*out, Operation.DICT, len(node.items)]

    def expr_BinaryOp(self, node: ast.BinaryOp) -> Bytecode:
        return [*self.expr(node.right), *self.expr(node.left), _BINARY_OPS[node.op]]

    def expr_Between(self, node: ast.Between) -> Bytecode:
        # An inline three-argument function, so each operand is evaluated once and the result is
        # null when any operand is null (as in PostHog): locals 0, 1, 2 are expr, low and high.
        if node.negated:
            test = [Operation.GET_LOCAL, 1, Operation.GET_LOCAL, 0, Operation.LT]
            test += [Operation.GET_LOCAL, 2, Operation.GET_LOCAL, 0, Operation.GT, Operation.OR, 2]
        else:
            test = [Operation.GET_LOCAL, 1, Operation.GET_LOCAL, 0, Operation.GT_EQ]
            test += [Operation.GET_LOCAL, 2, Operation.GET_LOCAL, 0, Operation.LT_EQ, Operation.AND, 2]
        body: Bytecode = []
        for slot in range(3):
            body.extend([Operation.NULL, Operation.GET_LOCAL, slot, Operation.EQ])
        body.extend([Operation.OR, 3, Operation.JUMP_IF_FALSE, 2, Operation.NULL, Operation.RETURN])
        body.extend([*test, Operation.RETURN])
        return [
            *self._sequence([node.expr, node.low, node.high]),
            *[Operation.CALLABLE, "between", 3, 0, len(body), *body],
            *[Operation.CLOSURE, 0, Operation.CALL_LOCAL, 3],
        ]

    def expr_And(self, node: ast.And) -> Bytecode:
        return [*self._sequence(node.exprs), Operation.AND, len(node.exprs)]

    def expr_Or(self, node: ast.Or) -> Bytecode:
        return [*self._sequence(node.exprs), Operation.OR, len(node.exprs)]

    def expr_Not(self, node: ast.Not) -> Bytecode:
        return [*self.expr(node.expr), Operation.NOT]

    def _conditional(self, cond: ast.Expr, then: ast.Expr, otherwise: ast.Expr | None) -> Bytecode:
        then_code = self.expr(then)
        else_code = self.expr(otherwise) if otherwise is not None else [Operation.NULL]
        return [
            *self.expr(cond),
            Operation.JUMP_IF_FALSE,
            len(then_code) + 2,
            *then_code,
            Operation.JUMP,
            len(else_code),
            *else_code,
        ]

    def _multi_if(self, args: list[ast.Expr]) -> Bytecode:
        pairs = len(args) // 2
        default = args[-1] if len(args) % 2 else None
        code = self.expr(default) if default is not None else [Operation.NULL]
        for i in range(pairs - 1, -1, -1):
            then_code = self.expr(args[2 * i + 1])
            code = [
                *self.expr(args[2 * i]),
                Operation.JUMP_IF_FALSE,
                len(then_code) + 2,
                *then_code,
                Operation.JUMP,
                len(code),
                *code,
            ]
        return code

    def expr_Call(self, node: ast.Call) -> Bytecode:
        name, args = node.name, node.args
        if name == "not" and len(args) == 1:
            return [*self.expr(args[0]), Operation.NOT]
        if name in ("and", "or") and len(args) > 1:
            op = Operation.AND if name == "and" else Operation.OR
            return [*self._sequence(args), op, len(args)]
        if name == "if" and len(args) in (2, 3):
            return self._conditional(args[0], args[1], args[2] if len(args) == 3 else None)
        if name == "multiIf" and len(args) >= 2:
            return self._multi_if(args)
        if name == "ifNull" and len(args) == 2:
            fallback = self.expr(args[1])
            return [*self.expr(args[0]), Operation.JUMP_IF_STACK_NOT_NULL, len(fallback) + 1, Operation.POP, *fallback]
        out = self._sequence(args)
        load = self._load_name(name)
        if load is not None:
            return [*out, *load, Operation.CALL_LOCAL, len(args)]
        return [*out, Operation.CALL_GLOBAL, name, len(args)]

    def expr_ExprCall(self, node: ast.ExprCall) -> Bytecode:
        return [*self._sequence(node.args), *self.expr(node.callee), Operation.CALL_LOCAL, len(node.args)]

    def expr_Lambda(self, node: ast.Lambda) -> Bytecode:
        return self._callable("lambda", node.params, node.body, node)


def compile_ast(program: ast.Program) -> list[Any]:
    """Compile a parsed program to bytecode."""
    code = _FunctionCompiler().program(program)
    return [BYTECODE_MARKER, BYTECODE_VERSION, *(int(x) if isinstance(x, Operation) else x for x in code)]


def compile_program(source: str) -> list[Any]:
    """Compile Hog source to HogVM bytecode; raises HogSyntaxError (with line and column) on bad input."""
    return compile_ast(parse_program(source))
