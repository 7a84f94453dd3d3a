"""Building blocks of the flow language's JSON Schema, shared by ``ivr.flows.schema``
and the node kinds (each kind describes its own part)."""
from __future__ import annotations

from typing import Any

__all__ = ["ref", "text", "obj", "integer", "node_entry", "NODE_ID"]

NODE_ID = r"^[A-Za-z0-9_-]+$"


def ref(name: str, description: str = "") -> dict[str, Any]:
    """A reference to ``#/$defs/NAME``."""
    out: dict[str, Any] = {"$ref": f"#/$defs/{name}"}
    if description:
        out["description"] = description
    return out


def text(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def obj(description: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A mapping with exactly these keys (unknown keys are refused, as ``ivr validate`` does)."""
    out: dict[str, Any] = {"type": "object", "description": description, "properties": properties,
                           "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def integer(description: str, lo: int, hi: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi, "description": description}


def node_entry(kind: str, description: str, body: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One node shape: a mapping whose kind key holds ``body`` (plus ``extra`` keys beside it)."""
    return obj(description, {kind: body, **(extra or {})}, (kind,))
