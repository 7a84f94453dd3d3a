"""A JSON Schema (draft 2020-12) of the call-flow language, for editors.

``ivr schema > flow.schema.json``, then either put this first line in a flow file::

    # yaml-language-server: $schema=../flow.schema.json

or map ``call_flows/*.yaml`` to it in the VS Code setting ``yaml.schemas``. Ops then get
completion, descriptions on hover and red squiggles while they type. The schema checks
shape only; ``ivr validate`` is the full check (names, reachability, templates, ...).

Each node kind describes its own part (``NodeKind.schema_defs`` and ``schema_node``);
this module adds what the flow file itself holds and lists every registered kind.
"""
from __future__ import annotations

from typing import Any

from ivr.model.escalation import SIGNALS

from .memory import memory_schema
from .nodes import KINDS
from .schema_parts import NODE_ID, integer, obj, ref, text
from .survey import survey_schema, wrap_up_schema

__all__ = ["json_schema", "SCHEMA_ID"]

SCHEMA_ID = "https://ivr.example.org/schemas/call-flow.json"
TIME_RANGE = r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$|^closed$"
DAY = r"(mon|tue|wed|thu|fri|sat|sun)"
DAY_SPEC = rf"^{DAY}(-{DAY})?(,{DAY}(-{DAY})?)*$"


def _defs() -> dict[str, Any]:
    """What the flow and every node kind share, then each kind's own definitions."""
    plain_prompt = {
        "oneOf": [
            text("Words to speak (fields like {order_id} are filled in), or 'audio/FILE.wav | words'."),
            obj("An audio file and the words it says (spoken if the file cannot be played).",
                 {"audio": text("Path under the audio folder, e.g. audio/main.wav."),
                  "text": text("What the recording says.")}),
        ]}
    defs: dict[str, Any] = {
        "nodeId": text("The name of a node of this flow.", pattern=NODE_ID),
        "prompt": {"description": "What the caller hears: text, 'audio/FILE.wav | text', {audio, text}, "
                                  "or a mapping of language codes (en-US, es-US ...) to prompts.",
                   "anyOf": [plain_prompt,
                             {"type": "object", "minProperties": 1, "additionalProperties": False,
                              "patternProperties": {r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$": plain_prompt}}]},
        "schedule": obj("Business hours.", {
            "timezone": text("IANA time zone, e.g. America/New_York.", default="UTC"),
            "open": {"type": "object", "description": 'Days to hours, e.g. {mon-fri: "08:00-20:00", sat: "09:00-14:00"}.',
                     "propertyNames": {"pattern": DAY_SPEC},
                     "additionalProperties": {"anyOf": [{"type": "string", "pattern": TIME_RANGE},
                                                        {"type": "array", "items": {"type": "string", "pattern": TIME_RANGE}}]}},
            "holidays": {"type": "array", "description": "Dates the line is closed, YYYY-MM-DD.",
                         "items": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}},
        }, ("open",)),
    }
    for kind in KINDS.kinds():
        defs.update(kind.schema_defs())
    return defs


def _nodes() -> list[dict[str, Any]]:
    """One shape per registered node kind."""
    return [kind.schema_node() for kind in KINDS.kinds()]


def json_schema() -> dict[str, Any]:
    """The schema of one flow file."""
    defs = _defs()
    defs["node"] = {"description": "One step of the call: exactly one kind key.", "oneOf": _nodes()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "IVR call flow",
        "description": "One support-line call flow (call_flows/*.yaml). Check it fully with 'ivr validate'.",
        "type": "object",
        "required": ["flow", "start", "nodes"],
        "additionalProperties": False,
        "properties": {
            "flow": text("The flow's name (unique among flows).", pattern=NODE_ID),
            "description": text("What this line is for."),
            "numbers": {"type": "array", "description": "Phone numbers that reach this flow, E.164.",
                        "items": {"type": "string", "pattern": r"^\+\d{7,15}$"}},
            "default": {"type": "boolean", "description": "Serve numbers no flow claims."},
            "language": text("Language of prompts and speech, e.g. en-US.", default="en-US"),
            "voice": text("Text-to-speech voice, e.g. Polly.Joanna."),
            "timeout": integer("Seconds to wait for the caller at a prompt.", 1, 60),
            "max_hold": integer("Longest hold for a person, in seconds (default 300); then the transfer's fallback.",
                                30, 3600),
            "hours": {**defs["schedule"], "description": "Business hours; calls outside them start at 'closed'.",
                      "properties": {**defs["schedule"]["properties"], "closed": ref("nodeId", "Where after-hours calls start."),
                                     "holiday": ref("nodeId", "Where calls start on a holiday (default: closed).")}},
            "operator": obj("The escape to a person, live at every prompt unless a node opts out.", {
                "digit": text("The key that asks for a person.", pattern=r"^[0-9*#]$", default="0"),
                "phrases": {"type": "array", "items": {"type": "string"}, "description": "Words that ask for a person."},
                "to": ref("nodeId", "The transfer node that takes these callers."),
                "after_hours": ref("nodeId", "While the line is closed (hours), the voicemail or callback node that "
                                             "takes these callers instead."),
            }, ("to",)),
            "retry": obj("How often a prompt is repeated.", {
                "no_input": integer("Silences before help.", 0, 5), "no_match": integer("Misunderstandings before help.", 0, 5),
                "then": ref("nodeId", "Where the call goes when tries run out (default: operator.to)."),
            }),
            "escalation": obj("When a frustrated or complex call goes to a person.", {
                "threshold": {"type": "number", "minimum": 0.05, "maximum": 1.0, "default": 0.7,
                              "description": "The score at which a caller is handed to a person."},
                "mode": {"enum": ["transfer", "offer"], "default": "transfer",
                         "description": "Transfer at once, or offer a person first."},
                "weights": {"type": "object", "propertyNames": {"enum": list(SIGNALS)},
                            "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}},
                "topics": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                     {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}]},
                "max_minutes": {"type": "number", "minimum": 0.5, "maximum": 120, "default": 5,
                                "description": "Minutes in the IVR after which the time itself counts as a signal."},
                "to": ref("nodeId", "Where escalated calls go (default: operator.to)."),
            }),
            "crm": obj("Post the context record of every transfer to a CRM, signed (HMAC-SHA256).", {
                "url": text("The CRM's webhook URL (https)."),
                "secret_env": text("The environment variable that holds the shared secret."),
            }, ("url", "secret_env")),
            "env": {"type": "object", "description": "Defaults for ${NAME} in lookup URLs.",
                    "additionalProperties": {"type": ["string", "number"]}},
            "survey": survey_schema(),
            "wrap_up": wrap_up_schema(),
            "memory": memory_schema(),
            "start": ref("nodeId", "The first node of a call."),
            "nodes": {"type": "object", "minProperties": 1, "description": "The steps of the call, by name.",
                      "propertyNames": {"pattern": NODE_ID}, "additionalProperties": ref("node")},
        },
        "$defs": defs,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m ivr.flows.schema [--markdown | --guide FILE]``: the JSON Schema, the
    Markdown reference that docs/GUIDE.md holds, or that reference written into FILE."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m ivr.flows.schema",
                                     description="Print the flow language's JSON Schema, or its Markdown reference. "
                                                 "Example: python -m ivr.flows.schema --markdown")
    parser.add_argument("--markdown", action="store_true", help="the reference section of docs/GUIDE.md")
    parser.add_argument("--guide", metavar="FILE", help="rewrite the reference section of FILE in place "
                        "(e.g. docs/GUIDE.md)")
    args = parser.parse_args(argv)
    if args.guide:
        from pathlib import Path

        from .reference import with_reference
        path = Path(args.guide)
        path.write_text(with_reference(path.read_text(encoding="utf-8")), encoding="utf-8")
    elif args.markdown:
        from .reference import markdown_reference
        print(markdown_reference(), end="")
    else:
        print(json.dumps(json_schema(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
