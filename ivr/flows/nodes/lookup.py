"""``lookup``: fetch data about the caller's request, then branch on the outcome.

```yaml
order_lookup:
  lookup:
    http: {url: "${ORDER_API}/orders/{order_id}", timeout: 2, fields: [status, eta]}
    found: order_status          # the JSON object is available as {lookup.FIELD}
    not_found: order_retry
    error: front_desk            # default: a person, with the reason "back end unavailable"
```
For demos a local table replaces ``http``:
``table: {key: "{order_id}", rows: {"123456": {status: shipped, eta: Friday}}}``.
``{lookup.FIELD}`` after a lookup is checked against the fields of its table's rows, or
against the ``fields:`` an HTTP lookup declares (without ``fields:``, any name passes).
``verifies: true`` marks the caller as verified when the lookup finds a record (e.g. an
account number and PIN check).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ivr.model.actions import DataLookup
from ivr.model.flow import Flow, Node, fill_template, template_fields
from ivr.model.phases import Phase

from ..positions import at, in_text, node_where
from ..reader import Context, Reader
from ..schema_parts import obj, ref, text
from ..yamlpos import Y
from .base import LOOKUP_FOUND, FieldUse, NodeKind, Step

__all__ = ["LookupNode", "BACKEND_DOWN", "KIND"]

_ENV = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
BACKEND_DOWN = "back end unavailable"


@dataclass(frozen=True)
class LookupNode(Node):
    url: str = ""
    method: str = "GET"
    timeout: float = 3.0
    headers: Mapping[str, str] = field(default_factory=dict)
    key: str = ""
    rows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    found: str = ""
    not_found: str = ""
    error: str = ""
    verifies: bool = False
    fields: tuple[str, ...] | None = None  # what a found record holds: declared (http) or the rows' (table)

    kind = "lookup"

    def edges(self) -> tuple[tuple[str, str], ...]:
        return tuple((k, v) for k, v in (("found", self.found), ("not_found", self.not_found), ("error", self.error)) if v)

    @property
    def templates(self) -> tuple[str, ...]:
        return (self.url or self.key,)


class Lookup(NodeKind[LookupNode]):
    key = "lookup"
    node = LookupNode
    description = "Fetch data."
    rank = 40
    automatic = True

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> LookupNode:
        r = Reader(body, ctx, f"lookup '{node_id}'")
        url, method, timeout, key = "", "GET", 3.0, ""
        fields: tuple[str, ...] | None = None
        headers: dict[str, str] = {}
        rows: dict[str, Mapping[str, Any]] = {}
        http, table = r.sub("http", f"the http of lookup '{node_id}'"), r.sub("table", f"the table of lookup '{node_id}'")
        if http and table:
            ctx.error(r.where("table"), f"lookup '{node_id}' has both 'http' and 'table'", "keep one data source")
        elif not http and not table:
            r.missing("http", "or 'table' for local data")
        if http and http.ok:
            url = http.text("url", "", required=True) or ""
            for name in _ENV.findall(url):
                if name not in os.environ and name not in ctx.env:
                    ctx.error(http.at("url"), f"environment variable {name} is not set",
                              f"set {name}, or give a default under 'env:' at the top of the flow")
            url = _ENV.sub(lambda m: os.environ.get(m.group(1), ctx.env.get(m.group(1), "")), url)
            if url and not re.match(r"https?://", url):
                ctx.error(http.at("url"), f"lookup url '{url}' must start with http:// or https://")
            method = http.choice("method", ("GET", "POST"), "GET")
            timeout = http.number("timeout", 3.0, 0.1, 10) or 3.0
            if http.has("fields"):
                fields = http.words("fields")
            h = http.get("headers")
            headers = {k: str(v.value) for k, v in h.value.items()} if h is not None and isinstance(h.value, dict) else {}
            http.done()
        if table and table.ok:
            key = table.text("key", "", required=True) or ""
            r_rows = table.get("rows")
            if r_rows is None:
                table.missing("rows")
            elif not isinstance(r_rows.value, dict):
                ctx.error(r_rows.where, "'rows' must map each key to its record")
            else:
                for k, v in r_rows.value.items():
                    if not isinstance(v.value, dict):
                        ctx.error(v.where, f"row '{k}' must be a mapping of fields, e.g. {{status: shipped}}")
                    else:
                        rows[str(k)] = v.plain()
            table.done()
            fields = tuple(dict.fromkeys(str(name) for row in rows.values() for name in row)) or None
        for template in (url, key):
            try:
                template_fields(template)
            except ValueError as exc:
                ctx.error(body.where, f"bad template in lookup '{node_id}': {exc}")
        found = r.ref("found", node_id)
        not_found = r.ref("not_found", node_id)
        error = r.ref("error", node_id, required=False)
        verifies = r.flag("verifies", False)
        r.done()
        return LookupNode(node_id, node.y.where, url, method, timeout, headers, key, rows, found, not_found, error, verifies,
                          fields)

    def enter(self, node: LookupNode, call: Step) -> None:
        if node.url:
            fields = {k: quote(v, safe="") for k, v in call.fields().items()}
            url = fill_template(node.url, fields)
            call.update(phase=Phase.LOOKUP)
            call.actions.append(DataLookup(node=node.id, url=url, method=node.method, timeout=node.timeout,
                                           headers=dict(node.headers)))
            return
        row = node.rows.get(call.fill(node.key))
        self.on_lookup(node, call, "found" if row is not None else "not_found", row or {}, "")

    def on_lookup(self, node: LookupNode, call: Step, outcome: str, data: Mapping[str, Any], detail: str) -> None:
        used = call.flow.lookup_fields
        if used is not None:  # only what the flow says or decides on stays with the call
            data = {k: v for k, v in data.items() if k in used}
        record: dict[str, Any] = {"node": node.id, "outcome": outcome, "data": dict(data) if outcome == "found" else {}}
        if detail:
            record["detail"] = detail
        call.update(lookups=(*call.session.lookups, record), phase=Phase.LISTENING)
        if outcome == "found":
            call.update(lookup=dict(data), verified=call.session.verified or node.verifies)
            call.goto(node.found)
        elif outcome == "not_found":
            call.goto(node.not_found)
        elif node.error:
            call.goto(node.error)
        else:
            call.escalate(f"{BACKEND_DOWN} ({detail})" if detail else BACKEND_DOWN)

    # --- checks, graph and schema -----------------------------------------------------------
    def facts(self, node: LookupNode, label: str) -> tuple[str, str]:
        """A record was found along 'found'; along any other way out, none is."""
        return (LOOKUP_FOUND, "") if label == "found" else ("", LOOKUP_FOUND)

    def record_fields(self, node: LookupNode) -> tuple[str, ...] | None:
        return node.fields

    def field_uses(self, node: LookupNode, ctx: Context) -> Iterable[FieldUse]:
        where = at(ctx, node, "http", "url") if node.url else at(ctx, node, "table", "key")
        for template in node.templates:
            try:
                names = list(dict.fromkeys(template_fields(template)))
            except ValueError:
                continue  # reported by the reader
            for name in names:
                yield FieldUse(name, in_text(ctx, where, name))

    def person_exits(self, node: LookupNode) -> tuple[str, ...]:
        return () if node.error else ("error",)

    def check_without_person(self, node: LookupNode, flow: Flow, ctx: Context) -> None:
        if not node.error:
            ctx.error(node_where(ctx, node), f"when lookup '{node.id}' fails, the call has nowhere to go",
                      "add 'error: NODE' to the lookup, or set operator.to")

    def schema_defs(self) -> dict[str, Any]:
        return {"lookup": {**obj("Fetch data about the caller's request; its fields are {lookup.FIELD} after 'found'.", {
            "http": obj("An HTTP back end.", {
                "url": text("http(s) URL; ${ENV} and {slot} are filled in."),
                "method": {"enum": ["GET", "POST"], "description": "The HTTP method.", "default": "GET"},
                "timeout": {"type": "number", "minimum": 0.1, "maximum": 10, "default": 3,
                            "description": "Seconds for the whole answer, retry included."},
                "headers": {"type": "object", "additionalProperties": {"type": ["string", "number"]},
                            "description": "Extra request headers, e.g. an API key."},
                "fields": {"type": "array", "items": {"type": "string"},
                           "description": "The fields of the JSON object the back end returns; {lookup.FIELD} is "
                                          "checked against them (without this list, any name passes)."}}, ("url",)),
            "table": obj("Local data (demos, small lists).", {
                "key": text("The row key, e.g. \"{order_id}\"."),
                "rows": {"type": "object", "additionalProperties": {"type": "object"},
                         "description": "Key -> record, e.g. {\"123456\": {status: shipped}}."}}, ("key", "rows")),
            "found": ref("nodeId", "Where the call goes when a record is found."),
            "not_found": ref("nodeId", "Where the call goes when there is none (HTTP 404, or no row)."),
            "error": ref("nodeId", "When the back end fails (default: a person)."),
            "verifies": {"type": "boolean", "description": "A found record marks the caller as verified."},
        }, ("found", "not_found")), "oneOf": [{"required": ["http"]}, {"required": ["table"]}]}}


KIND = Lookup()
