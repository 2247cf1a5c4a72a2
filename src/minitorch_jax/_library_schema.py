"""Operator schemas for ``mt.library``: torch's schema strings, parsed and inferred.

:func:`infer_schema` turns a type-annotated Python function into torch's schema string
(``"(Tensor x, float y) -> Tensor"``); :func:`parse_schema` reads such a string back into a
:class:`FunctionSchema` (arguments, defaults, which tensors are written in place, returns), which
binds call arguments for the ops that ``mt.library`` defines.
"""

from __future__ import annotations

import inspect
import math
import re
import typing
from collections.abc import Sequence as _AbcSequence

__all__ = ["infer_schema", "parse_schema", "FunctionSchema", "Argument", "parse_qualname"]

_NO_DEFAULT = inspect.Parameter.empty


def parse_qualname(qualname: str) -> tuple[str, str]:
    """Split ``"ns::name"`` into ``(ns, name)``, raising torch's ValueError otherwise."""
    parts = qualname.split("::") if isinstance(qualname, str) else []
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise ValueError(
            f'Expected `qualname` to be of the form "namespace::name", but got {qualname}. The qualname '
            "passed to the torch.library APIs must consist of a namespace and a name, e.g. aten::sin")
    return parts[0], parts[1]


# ----------------------------------------------------------------------------------------------------
# inference from annotations


def _mt():
    import minitorch_jax
    return minitorch_jax


def _type_table() -> dict:
    """Python annotation -> schema type, for arguments (built lazily: needs mt's classes)."""
    mt = _mt()
    Opt = typing.Optional
    table: dict = {}

    def seqs(t):
        return (typing.Sequence[t], typing.List[t], _AbcSequence[t], list[t])  # noqa: UP006

    base = [(mt.Tensor, "Tensor", True), (int, "SymInt", True), (float, "float", True),
            (bool, "bool", True), (int | float | bool, "Scalar", True)]
    try:
        import torch  # a user annotating with torch's classes while running mt (torch is an oracle)
        base += [(torch.Tensor, "Tensor", True), (torch.dtype, "ScalarType", False),
                 (torch.device, "Device", False)]
    except Exception:  # pragma: no cover - torch absent
        pass
    for py, name, has_list in base:
        table[py] = name
        table[Opt[py]] = name + "?"
        if has_list:
            for s in seqs(py):
                table[s] = name + "[]"
                if name != "Tensor":
                    table[Opt[s]] = name + "[]?"
        if name == "Tensor":
            for s in seqs(Opt[py]):
                table[s] = "Tensor?[]"
    for py, name in ((str, "str"), (mt.dtype, "ScalarType"), (mt.device, "Device")):
        table[py] = name
        table[Opt[py]] = name + "?"
    return table


def _return_table() -> dict:
    mt = _mt()
    table = {mt.Tensor: "Tensor", typing.List[mt.Tensor]: "Tensor[]", list[mt.Tensor]: "Tensor[]",  # noqa: UP006
             int: "SymInt", float: "float", bool: "bool", int | float | bool: "Scalar"}
    try:
        import torch
        table.update({torch.Tensor: "Tensor", list[torch.Tensor]: "Tensor[]"})
    except Exception:  # pragma: no cover
        pass
    return table


def _default_str(value, name: str, err) -> str:
    mt = _mt()
    if value is None:
        return "None"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "inf" if value == math.inf else "-inf" if value == -math.inf else repr(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, mt.dtype) or type(value).__name__ == "dtype":
        return str(value).split(".")[-1]
    if isinstance(value, mt.device) or type(value).__name__ == "device":
        return f'"{value}"'
    raise err(f"Parameter {name} has an unsupported default value type {type(value)}. Please file an "
              "issue on GitHub so we can prioritize this.")


def infer_schema(prototype_function, /, *, mutates_args, op_name: str | None = None, tags=()) -> str:
    """Torch's schema string for a type-annotated function (``torch.library.infer_schema``).

    Args:
        prototype_function: the function; every parameter and the return need annotations
            (``Tensor``, ``int``, ``float``, ``bool``, ``str``, ``Optional``/``Sequence`` of those,
            ``mt.dtype``, ``mt.device``).
        mutates_args: names of the parameters the function writes into, or ``"unknown"`` (all
            tensor parameters may be written).
        op_name: prefixed to the schema when given.
        tags: accepted for compatibility (ignored).

    Returns:
        e.g. ``"(Tensor x, Tensor(a1!) out, *, float alpha=1.0) -> Tensor"``.
    """
    try:
        sig = inspect.signature(prototype_function, eval_str=True)
    except (NameError, TypeError):
        sig = inspect.signature(prototype_function)

    def err(msg):
        return ValueError(f"infer_schema(func): {msg} Got func with signature {sig})")

    if mutates_args != "unknown" and (isinstance(mutates_args, str) or
                                      not isinstance(mutates_args, typing.Iterable)):
        raise ValueError("mutates_args must either be a sequence of the names of the arguments that are "
                         "mutated or the string 'unknown'. ")
    table = _type_table()
    params, seen_kw, mutated = [], False, set()
    for idx, (name, p) in enumerate(sig.parameters.items()):
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            raise err("We do not support positional-only args, varargs, or varkwargs.")
        if p.kind == p.KEYWORD_ONLY and not seen_kw:
            seen_kw = True
            params.append("*")
        if p.annotation is p.empty:
            raise err(f"Parameter {name} must have a type annotation.")
        ann = p.annotation
        if ann not in table:
            raise err(f"Parameter {name} has unsupported type {ann}. The valid types are: "
                      f"{list(table)}.")
        stype = table[ann]
        is_mut = mutates_args == "unknown" and stype.startswith("Tensor") or (
            mutates_args != "unknown" and name in mutates_args)
        if is_mut:
            if not stype.startswith("Tensor"):
                raise err(f"Parameter {name} is in mutable_args but only Tensors or collections of Tensors "
                          "can be mutated")
            mutated.add(name)
            stype = f"Tensor(a{idx}!)" + stype[len("Tensor"):]
        if p.default is not p.empty:
            params.append(f"{stype} {name}={_default_str(p.default, name, err)}")
        else:
            params.append(f"{stype} {name}")
    if mutates_args != "unknown":
        missing = set(mutates_args) - set(sig.parameters)
        if missing:
            raise err(f"{missing} in mutates_args were not found in the custom op's signature. mutates_args "
                      "should contain the names of all args that the custom op mutates, or just the string "
                      "'unknown' if you don't know.")
    rets = _returns(sig, err)
    out = f"({', '.join(params)}) -> {rets}"
    return f"{op_name}{out}" if op_name is not None else out


def _returns(sig, err) -> str:
    ann = sig.return_annotation
    if ann is sig.empty:
        raise err("No return type annotation was provided. Please add one.")
    if ann is None or ann is type(None):
        return "()"
    table = _return_table()
    origin = typing.get_origin(ann)
    if origin is tuple:
        parts = []
        for a in typing.get_args(ann):
            if a not in table:
                raise err(f"Return has unsupported type {a}. The valid types are: {table}.")
            parts.append(table[a])
        return f"({', '.join(parts)})"
    if ann not in table:
        raise err(f"Return has unsupported type {ann}. The valid types are: {table}.")
    return table[ann]


# ----------------------------------------------------------------------------------------------------
# parsing schema strings


class Argument:
    """One argument (or return) of a :class:`FunctionSchema`.

    Attributes: ``name``, ``type`` (the schema type without alias annotation, e.g. ``"Tensor?"``),
    ``default`` (Python value, ``inspect.Parameter.empty`` when none), ``kwarg_only``,
    ``is_write`` (annotated ``(a!)``: the op writes into it), ``alias`` (the alias set or None).
    """

    def __init__(self, name, type_, default=_NO_DEFAULT, kwarg_only=False, alias=None, is_write=False,
                 text=""):
        self.name, self.type, self.default, self.kwarg_only = name, type_, default, kwarg_only
        self.alias, self.is_write, self._text = alias, is_write, text

    @property
    def has_default_value(self) -> bool:
        """Whether the argument has a default."""
        return self.default is not _NO_DEFAULT

    @property
    def is_tensor_like(self) -> bool:
        """A Tensor, optional Tensor or list of Tensors."""
        return self.type.startswith("Tensor")

    def canonical(self) -> str:
        """The argument as torch's schema printer writes it (floats as ``1.``)."""
        text = self._text
        if self.has_default_value and isinstance(self.default, float) and "=" in text:
            head = text.split("=", 1)[0].rstrip()
            r = repr(self.default)
            return f"{head}={r[:-1] if r.endswith('.0') else r}"
        return text

    def __str__(self) -> str:
        return self._text

    __repr__ = __str__


class FunctionSchema:
    """A parsed schema: ``name``, ``overload_name``, ``arguments``, ``returns`` (lists of :class:`Argument`).

    ``str(schema)`` gives the schema string back (``"mylib::foo(Tensor x) -> Tensor"`` once the op is
    defined), as torch's ``OpOverload._schema`` does.
    """

    def __init__(self, name, overload_name, arguments, returns, text):
        self.name, self.overload_name = name, overload_name
        self.arguments, self.returns, self._text = arguments, returns, text

    @property
    def is_mutable(self) -> bool:
        """Whether any argument is written in place."""
        return any(a.is_write for a in self.arguments)

    def __str__(self) -> str:
        args = []
        for a in self.arguments:
            if a.kwarg_only and not any(x == "*" for x in args):
                args.append("*")
            args.append(a.canonical())
        rets = [r.canonical() for r in self.returns]
        ret = rets[0] if len(rets) == 1 and not self._ret_paren else f"({', '.join(rets)})"
        name = f"{self.name}.{self.overload_name}" if self.overload_name else self.name
        return f"{name}({', '.join(args)}) -> {ret}"

    __repr__ = __str__

    def bind(self, args, kwargs, opname: str) -> tuple[list, dict]:
        """Match call arguments to the schema: ``(positional values, keyword-only values)`` with
        defaults filled in. Raises TypeError naming the op on a bad call."""
        pos_params = [a for a in self.arguments if not a.kwarg_only]
        kw_params = [a for a in self.arguments if a.kwarg_only]
        if len(args) > len(pos_params):
            raise TypeError(f"{opname}() expected at most {len(pos_params)} positional argument(s) but "
                            f"received {len(args)}")
        kwargs = dict(kwargs)
        pos = list(args)
        for a in pos_params[len(args):]:
            if a.name in kwargs:
                pos.append(kwargs.pop(a.name))
            elif a.has_default_value:
                pos.append(a.default)
            else:
                raise TypeError(f"{opname}() is missing value for argument '{a.name}'. Declaration: "
                                f"{self._text}")
        kw = {}
        for a in kw_params:
            if a.name in kwargs:
                kw[a.name] = kwargs.pop(a.name)
            elif a.has_default_value:
                kw[a.name] = a.default
            else:
                raise TypeError(f"{opname}() is missing value for argument '{a.name}'. Declaration: "
                                f"{self._text}")
        if kwargs:
            raise TypeError(f"{opname}() got an unexpected keyword argument '{next(iter(kwargs))}'")
        return pos, kw


_ARG_RE = re.compile(r"^(?P<type>[A-Za-z_][A-Za-z0-9_]*)(?P<alias>\([a-z0-9_]+!?\))?(?P<suffix>(\[\d*\]|\?)*)"
                     r"(\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)(\s*=\s*(?P<default>.+))?)?$")


_SCHEMA_RE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_:]*(\.[A-Za-z0-9_]+)?)?\s*"
                        r"\((?P<args>.*)\)\s*->\s*(?P<ret>.+)$")


def _split_top(s: str) -> list[str]:
    parts, depth, cur, quote = [], 0, [], None
    for ch in s:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _parse_default(text: str, type_: str):
    t = text.strip()
    if t == "None":
        return None
    if t in ("True", "False"):
        return t == "True"
    if t in ("inf", "-inf"):
        return float(t)
    if t[:1] in "\"'":
        return t[1:-1]
    if t.startswith("["):
        return [_parse_default(x, type_) for x in _split_top(t[1:-1])]
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        pass
    if type_.startswith("ScalarType"):
        return getattr(_mt(), t)
    return t


def _schema_error(text: str, where: str):
    return RuntimeError(f"expected {where} here:\n{text}")


def _parse_arg(text: str, kwarg_only: bool, full: str, is_return: bool) -> Argument:
    m = _ARG_RE.match(text.strip())
    if not m:
        raise _schema_error(full, f"a type and a name but found '{text}'")
    if not is_return and m.group("name") is None:
        raise _schema_error(full, f"an argument name after the type '{text}'")
    alias = m.group("alias")
    type_ = m.group("type") + (m.group("suffix") or "")
    default = _NO_DEFAULT if m.group("default") is None else _parse_default(m.group("default"), type_)
    alias_set = alias[1:-1].rstrip("!") if alias else None
    return Argument(m.group("name") or "", type_, default, kwarg_only, alias_set,
                    bool(alias and alias.endswith("!)")), text.strip())


def parse_schema(schema: str, *, need_name: bool = True) -> FunctionSchema:
    """Parse torch's schema string (``"name.overload(Tensor x, *, int n=1) -> (Tensor, Tensor)"``).

    Args:
        schema: the string; the name part may be left out when ``need_name`` is False.

    Raises:
        RuntimeError: the string is not a schema (torch's parser raises RuntimeError too).
    """
    s = schema.strip()
    m = _SCHEMA_RE.match(s)
    if not m or (need_name and not m.group("name")):
        raise _schema_error(schema, "'(' and '->' in an operator schema 'name(args) -> returns' but found "
                            "something else")
    name = m.group("name") or ""
    base, _, overload = name.partition(".")
    args, kw = [], False
    for part in _split_top(m.group("args")):
        if part == "*":
            kw = True
            continue
        args.append(_parse_arg(part, kw, schema, False))
    ret = m.group("ret").strip()
    if ret.startswith("(") and ret.endswith(")"):
        rets = [_parse_arg(p, False, schema, True) for p in _split_top(ret[1:-1])]
    else:
        rets = [_parse_arg(ret, False, schema, True)]
    sch = FunctionSchema(base, overload, args, rets, s)
    sch._ret_paren = ret.startswith("(")
    return sch
