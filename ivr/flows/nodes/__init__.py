"""Node kinds of the call-flow language, one module each, and their one registry.

``KINDS`` knows every kind by its YAML key (``KINDS["menu"]``, for the loader) and by its
node dataclass (``KINDS.of(node)``, for the engine, the checks and the graph). It is
filled by discovery: every module of this package except ``base`` exports ``KIND`` (a
``NodeKind``), and importing the package registers them all. A new kind is therefore one
file here plus its tests; nothing else is edited.

Rules of this file: discovery is strict. A module without ``KIND``, two kinds with one
key or one dataclass, or a kind whose key differs from its dataclass's ``kind`` stop the
import with a message naming the module: a half-registered kind would surface as a
surprise during a call.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from typing import Any

from ivr.model.flow import Node

from .base import NodeKind

__all__ = ["KINDS", "Registry", "NodeKind"]

NOT_KINDS = frozenset({"base"})  # modules of this package that hold what kinds share


class Registry:
    """Every node kind, by YAML key and by node dataclass, listed by rank (then key)."""

    def __init__(self) -> None:
        self._by_key: dict[str, NodeKind[Any]] = {}
        self._by_class: dict[type[Node], NodeKind[Any]] = {}

    def register(self, kind: NodeKind[Any]) -> NodeKind[Any]:
        """Add ``kind`` (discovery calls this for each module's ``KIND``)."""
        if not isinstance(kind, NodeKind):
            raise TypeError(f"{kind!r} is not a NodeKind")
        if getattr(kind.node, "kind", None) != kind.key:
            raise ValueError(f"node kind '{kind.key}': {kind.node.__name__}.kind must be '{kind.key}'")
        if kind.key in self._by_key or kind.node in self._by_class:
            raise ValueError(f"node kind '{kind.key}' ({kind.node.__name__}) is registered twice")
        self._by_key[kind.key] = kind
        self._by_class[kind.node] = kind
        return kind

    def forget(self, key: str) -> None:
        """Remove the kind with YAML key ``key`` (tests that register a kind of their own)."""
        kind = self._by_key.pop(key)
        del self._by_class[kind.node]

    def discover(self, package: str = __name__, path: Iterable[str] | None = None) -> list[str]:
        """Import every module of ``package`` not yet registered and register its ``KIND``;
        returns the keys added. ``path`` defaults to the package's own ``__path__``."""
        added = []
        where = list(path) if path is not None else list(importlib.import_module(package).__path__)
        known = {type(k).__module__ for k in self._by_key.values()}
        for info in sorted(pkgutil.iter_modules(where), key=lambda m: m.name):
            name = f"{package}.{info.name}"
            if info.name in NOT_KINDS or info.name.startswith("_") or name in known:
                continue
            module = importlib.import_module(name)
            kind = getattr(module, "KIND", None)
            if kind is None:
                raise ImportError(f"{name} is in the node kinds package but exports no KIND")
            added.append(self.register(kind).key)
        self._by_key = dict(sorted(self._by_key.items(), key=lambda item: (item[1].rank, item[0])))
        return added

    # --- looking kinds up -----------------------------------------------------------------
    def of(self, node: Node) -> NodeKind[Any]:
        """The kind of a loaded node."""
        return self._by_class[type(node)]

    def __getitem__(self, key: str) -> NodeKind[Any]:
        return self._by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def keys(self) -> list[str]:
        return list(self._by_key)

    def kinds(self) -> list[NodeKind[Any]]:
        return list(self._by_key.values())


KINDS = Registry()
KINDS.discover()
