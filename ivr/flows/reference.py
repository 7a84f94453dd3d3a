"""The YAML reference of the flow language in Markdown, made from the JSON Schema that
each node kind describes (``ivr.flows.schema``), so it lists every key the loader knows.

``python -m ivr.flows.schema --markdown`` prints it; docs/GUIDE.md holds it between two
markers, and a test fails when the committed text differs from what this module makes.

Rules of this file: only the schema is read (never a kind's module directly), so a new
node kind appears here by itself. A key is one table row: its dotted path (``slot.name``),
what it holds, whether it must be given, and what it means.
"""
from __future__ import annotations

from typing import Any

from .nodes import KINDS
from .schema import json_schema

__all__ = ["markdown_reference", "with_reference", "BEGIN", "END"]

BEGIN = "<!-- reference: made by `python -m ivr.flows.schema --markdown`; edit the schema, not this text -->"
END = "<!-- end of reference -->"
_REF_NAMES = {"nodeId": "node name", "prompt": "prompt", "schedule": "schedule", "target": "transfer target",
              "agentPool": "agent pool ({agents: ...})",
              "test": "test", "option": "option"}
_REF_MEANINGS = {"nodeId": "The node the call goes to.", "prompt": "What the caller hears."}


def markdown_reference() -> str:
    """The reference section: the flow file's keys, then each node kind's."""
    schema = json_schema()
    defs: dict[str, Any] = schema["$defs"]
    out = ["## Reference: every key", "",
           "Generated from the flow language's schema (the same one `ivr schema` prints). "
           "\"must\" marks a key that has to be given.", "",
           "### The flow file", ""]
    out += _table(_rows(schema, defs, "", schema.get("required", ())))
    out += ["", "A **prompt** is text (`{slot}` and `{lookup.FIELD}` are filled in), `audio/FILE.wav | text`, "
            "a mapping `{audio: ..., text: ...}`, or a mapping of language codes (`en-US`, `ko-KR`) to prompts.",
            "A **schedule** is `{timezone, open, holidays}` as under the flow's `hours`."]
    for option in defs["node"]["oneOf"]:
        kind = next(iter(option["required"]))
        body = option["properties"][kind]
        about = _resolve(body, defs).get("description") or option.get("description") or kind
        out += ["", f"### `{kind}`", "", _sentence(about), ""]
        rows = _kind_rows(kind, body, defs)
        rows += _rows({"properties": {k: v for k, v in option["properties"].items() if k != kind}}, defs, "", ())
        out += _table(rows) if rows else ["No keys of its own."]
    out += ["", f"Kinds listed by the registry: {', '.join(f'`{k}`' for k in KINDS)}."]
    return "\n".join(out) + "\n"


def with_reference(document: str) -> str:
    """``document`` with the text between ``BEGIN`` and ``END`` replaced by the reference
    (``python -m ivr.flows.schema --guide docs/GUIDE.md``)."""
    head, found, rest = document.partition(BEGIN)
    if not found or END not in rest:
        raise ValueError(f"the document has no reference markers ({BEGIN} ... {END})")
    return f"{head}{BEGIN}\n{markdown_reference()}{END}{rest.split(END, 1)[1]}"


def _kind_rows(kind: str, body: dict[str, Any], defs: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows for the value under the kind's key: its keys, or its forms."""
    resolved = _resolve(body, defs)
    if resolved.get("type") == "object" and "properties" in resolved:
        return _rows(resolved, defs, "", resolved.get("required", ()))
    if resolved.get("type") == "array":
        items = _resolve(resolved.get("items", {}), defs)
        rows = [(f"`{kind}`", "list", "must", _sentence(resolved.get("description", "")))]
        for case in items.get("oneOf", [items]):
            rows += _rows(_resolve(case, defs), defs, "- ", _resolve(case, defs).get("required", ()))
        return rows
    forms = resolved.get("anyOf") or resolved.get("oneOf")
    if forms:
        rows = [(f"`{kind}`", " or ".join(_type(f, defs) for f in forms), "must",
                 _sentence(resolved.get("description", "")))]
        for form in forms:
            form = _resolve(form, defs)
            if form.get("type") == "object" and "properties" in form:
                rows += _rows(form, defs, f"{kind}.", form.get("required", ()))
        return rows
    return [(f"`{kind}`", _type(resolved, defs), "must", _sentence(resolved.get("description", "")))]


def _rows(obj: dict[str, Any], defs: dict[str, Any], prefix: str, required: Any) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for key, spec in obj.get("properties", {}).items():
        resolved = _resolve(spec, defs)
        ref = spec.get("$ref", "").rsplit("/", 1)[-1]
        described = spec.get("description") or _REF_MEANINGS.get(ref) or resolved.get("description", "")
        default = spec.get("default", resolved.get("default"))
        if default is not None and "default" not in described.lower():
            described = f"{_sentence(described)} Default: {_plain(default)}."
        rows.append((f"`{prefix}{key}`", _type(spec, defs), "must" if key in required else "",
                     _sentence(described)))
        if not spec.get("$ref") and resolved.get("type") == "object" and "properties" in resolved:
            rows += _rows(resolved, defs, f"{prefix}{key}.", resolved.get("required", ()))
    return rows


def _resolve(spec: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = spec.get("$ref", "")
    return dict(defs[ref.rsplit("/", 1)[-1]]) if ref.startswith("#/$defs/") else spec


def _type(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    ref = spec.get("$ref", "")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return _REF_NAMES.get(name, name)
    if "enum" in spec:
        return "one of " + ", ".join(f"`{_plain(v)}`" for v in spec["enum"])
    forms = spec.get("anyOf") or spec.get("oneOf")
    if forms:
        return " or ".join(dict.fromkeys(_type(f, defs) for f in forms))
    kind = spec.get("type")
    if isinstance(kind, list):
        return " or ".join(_type({"type": k}, defs) for k in kind)
    if kind == "array":
        return f"list of {_type(spec.get('items', {}), defs)}"
    if kind in ("integer", "number"):
        word = "whole number" if kind == "integer" else "number"
        lo, hi = spec.get("minimum"), spec.get("maximum")
        return f"{word} {_plain(lo)}-{_plain(hi)}" if lo is not None and hi is not None else word
    return {"string": "text", "boolean": "true/false", "object": "mapping", "null": "nothing"}.get(str(kind), "any")


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _sentence(text: str) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if not text or text.endswith((".", "?", "!", ")")) else text + "."


def _table(rows: list[tuple[str, str, str, str]]) -> list[str]:
    return ["| key | holds | | meaning |", "|---|---|---|---|", *(f"| {' | '.join(row)} |" for row in rows)]
