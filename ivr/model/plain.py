"""Plain JSON data from the model's frozen dataclasses, and back: ``to_plain`` / ``of_plain``.

A session is saved at every step of every call, so turning it into a dict must cost
little. ``dataclasses.asdict`` walks every value of every field recursively, deep-copying
as it goes; here each dataclass gets, once (on its first use), a plan made from its
fields and their type hints, and the plan does no more than each field needs:

* ``str``, ``int``, ``float``, ``bool``, ``None`` and tuples of them: kept as they are
  (immutable);
* an ``Enum``: its value;
* a dataclass, or a tuple of dataclasses: converted by that dataclass's own plan;
* a mapping of strings to strings: copied;
* anything else (``Mapping[str, Any]``, a tuple of mappings, a type this file does not
  know): copied deeply as JSON data (dicts, lists, tuples), like ``asdict`` does.

So a field added to a dataclass round-trips without anything to write here (the
session's property test in tests/web checks every field). ``of_plain`` is the inverse:
unknown keys are ignored (a newer host may have written them), fields of tuple types
become tuples again, nested dataclasses are rebuilt, missing fields take their defaults.
"""
from __future__ import annotations

import copy
import dataclasses
import enum
import inspect
import sys
import threading
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["evolved", "of_plain", "to_plain"]

Convert = Callable[[Any], Any]
_SCALARS = (str, int, float, bool, type(None))
_LEAVES = frozenset(_SCALARS)  # these exact types (not their subclasses, such as enums) are kept as they are
_out: dict[type, Callable[[Any], dict[str, Any]]] = {}
_in: dict[type, Callable[[Mapping[str, Any]], Any]] = {}
_copyable: dict[type, frozenset[str]] = {}  # the fields a copy may set directly (empty: use replace)
_lock = threading.Lock()


def to_plain(obj: Any) -> dict[str, Any]:
    """The dataclass instance ``obj`` as a dict of plain data (what ``asdict`` gives, with
    enums as their values)."""
    cls = type(obj)
    convert = _out.get(cls)
    if convert is None:
        convert = _plan(cls)[0]
    return convert(obj)


def of_plain(cls: type, data: Mapping[str, Any]) -> Any:
    """An instance of the dataclass ``cls`` made from ``data`` (as ``to_plain`` made it)."""
    build = _in.get(cls)
    if build is None:
        build = _plan(cls)[1]
    return build(data)


def evolved(obj: Any, changes: Mapping[str, Any]) -> Any:
    """``dataclasses.replace(obj, **changes)``, for a frozen dataclass of plain fields,
    without its cost: the instance's values are copied, ``changes`` set over them and
    ``__post_init__`` run again (so its checks and conversions still apply). A class with
    slots, fields left out of ``__init__`` or init-only variables, or a name that is not a
    field, goes to ``dataclasses.replace`` (which raises the errors it always did)."""
    cls = type(obj)
    names = _copyable.get(cls)
    if names is None:
        names = _copyable.setdefault(cls, _copyable_fields(cls))
    if not names or not names.issuperset(changes):
        return dataclasses.replace(obj, **changes)
    new = object.__new__(cls)
    state = new.__dict__
    state.update(obj.__dict__)
    state.update(changes)
    post_init = getattr(new, "__post_init__", None)
    if post_init is not None:
        post_init()
    return new


def _copyable_fields(cls: type) -> frozenset[str]:
    if any("__slots__" in k.__dict__ for k in cls.__mro__[:-1]):
        return frozenset()
    hints = [hint for k in cls.__mro__ for hint in inspect.get_annotations(k).values()]
    if any(isinstance(hint, dataclasses.InitVar) or "InitVar" in str(hint) for hint in hints):
        return frozenset()
    fields = dataclasses.fields(cls)
    if not all(f.init for f in fields):
        return frozenset()
    return frozenset(f.name for f in fields)


def _plan(cls: type) -> tuple[Callable[[Any], dict[str, Any]], Callable[[Mapping[str, Any]], Any]]:
    with _lock:
        if cls not in _out:
            hints = _hints(cls)
            names = [f.name for f in dataclasses.fields(cls)]
            outs = tuple((name, _converter_out(hints.get(name, Any))) for name in names)
            ins = {name: _converter_in(hints.get(name, Any)) for name in names}
            _out[cls] = _make_out(outs, slots="__slots__" in cls.__dict__)
            _in[cls] = _make_in(cls, ins)
    return _out[cls], _in[cls]


def _hints(cls: type) -> dict[str, Any]:
    """The fields' types; a type that cannot be resolved here (a name imported for type
    checkers only) is read from the field's default instead (a tuple default: a tuple)."""
    try:
        return typing.get_type_hints(cls)
    except Exception:  # one unresolvable annotation: resolve the fields one by one
        pass
    module = vars(sys.modules.get(cls.__module__, typing))
    hints: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        try:
            hints[f.name] = typing.get_type_hints(type("_One", (), {"__annotations__": {f.name: f.type},
                                                                    "__module__": cls.__module__}),
                                                  globalns=module)[f.name]
        except Exception:
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            hints[f.name] = tuple[Any, ...] if isinstance(default, tuple) else Any
    return hints


def _make_out(plan: tuple[tuple[str, Convert | None], ...], slots: bool) -> Callable[[Any], dict[str, Any]]:
    def convert(obj: Any) -> dict[str, Any]:
        values = obj.__dict__
        return {name: values[name] if how is None else how(values[name]) for name, how in plan}

    def convert_slots(obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) if how is None else how(getattr(obj, name)) for name, how in plan}

    return convert_slots if slots else convert


def _make_in(cls: type, plan: dict[str, Convert | None]) -> Callable[[Mapping[str, Any]], Any]:
    def build(data: Mapping[str, Any]) -> Any:
        values = {}
        for name, value in data.items():
            if name in plan:
                how = plan[name]
                values[name] = value if how is None else how(value)
        return cls(**values)

    return build


# -- what each type needs -------------------------------------------------------------------


def _immutable(hint: Any) -> bool:
    if hint in _SCALARS:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return all(_immutable(a) for a in args)
    if origin is tuple:
        return all(_immutable(a) for a in args if a is not Ellipsis)
    return False


def _is_dataclass(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _converter_out(hint: Any) -> Convert | None:
    if _immutable(hint):
        return None
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_value
    if _is_dataclass(hint):
        return to_plain
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis and _is_dataclass(args[0]):
        return _each_to_plain
    if origin in (Mapping, dict, typing.Mapping) and args and all(a in _SCALARS for a in args):
        return dict
    return _deep


def _converter_in(hint: Any) -> Convert | None:
    if _is_dataclass(hint):
        return lambda value: of_plain(hint, value) if isinstance(value, Mapping) else value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis and _is_dataclass(args[0]):
            item = args[0]
            return lambda value: tuple(of_plain(item, v) if isinstance(v, Mapping) else v for v in value)
        return tuple
    return None


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _each_to_plain(values: Any) -> tuple[Any, ...]:
    return tuple(to_plain(v) if dataclasses.is_dataclass(v) else _deep(v) for v in values)


def _deep(value: Any) -> Any:
    """A deep copy of JSON-like data (what ``asdict`` does to a field it does not know)."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict:
        return {k: _deep(v) for k, v in value.items()} if value else {}
    if kind is list or kind is tuple:
        return kind(_deep(v) for v in value) if value else kind()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _SCALARS):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_plain(value)
    if isinstance(value, Mapping):
        return {k: _deep(v) for k, v in value.items()}
    return copy.deepcopy(value)
