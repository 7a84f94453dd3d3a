"""A JSON Schema (draft 2020-12) of the call-flow language, for editors.

``ivr schema > flow.schema.json``, then either put this first line in a flow file::

    # yaml-language-server: $schema=../flow.schema.json

or map ``call_flows/*.yaml`` to it in the VS Code setting ``yaml.schemas``. Ops then get
completion, descriptions on hover and red squiggles while they type. The schema checks
shape only; ``ivr validate`` is the full check (names, reachability, templates, ...).
"""
from __future__ import annotations

from typing import Any

from ivr.model.escalation import SIGNALS
from ivr.flows.nodes.branch import TESTS
from ivr.flows.nodes.collect import SLOT_KINDS
from ivr.model.targets import TARGET_FORMS

SCHEMA_ID = "https://ivr.example.org/schemas/call-flow.json"
NODE_ID = r"^[A-Za-z0-9_-]+$"
TIME_RANGE = r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$|^closed$"
DAY = r"(mon|tue|wed|thu|fri|sat|sun)"
DAY_SPEC = rf"^{DAY}(-{DAY})?(,{DAY}(-{DAY})?)*$"


def _ref(name: str, description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"$ref": f"#/$defs/{name}"}
    if description:
        out["description"] = description
    return out


def _text(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _obj(description: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "description": description, "properties": properties,
                           "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def _int(description: str, lo: int, hi: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi, "description": description}


def _node(kind: str, description: str, body: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return _obj(description, {kind: body, **(extra or {})}, (kind,))


def _defs() -> dict[str, Any]:
    target = "^(?:" + "|".join(form.pattern for form in TARGET_FORMS.values()) + ")$"
    plain_prompt = {
        "oneOf": [
            _text("Words to speak (fields like {order_id} are filled in), or 'audio/FILE.wav | words'."),
            _obj("An audio file and the words it says (spoken if the file cannot be played).",
                 {"audio": _text("Path under the audio folder, e.g. audio/main.wav."),
                  "text": _text("What the recording says.")}),
        ]}
    return {
        "nodeId": _text("The name of a node of this flow.", pattern=NODE_ID),
        "prompt": {"description": "What the caller hears: text, 'audio/FILE.wav | text', {audio, text}, "
                                  "or a mapping of language codes (en-US, es-US ...) to prompts.",
                   "anyOf": [plain_prompt,
                             {"type": "object", "minProperties": 1, "additionalProperties": False,
                              "patternProperties": {r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$": plain_prompt}}]},
        "target": _text("A transfer target: +E164 number, client:NAME, sip:user@host or queue:NAME.", pattern=target),
        "schedule": _obj("Business hours.", {
            "timezone": _text("IANA time zone, e.g. America/New_York.", default="UTC"),
            "open": {"type": "object", "description": 'Days to hours, e.g. {mon-fri: "08:00-20:00", sat: "09:00-14:00"}.',
                     "propertyNames": {"pattern": DAY_SPEC},
                     "additionalProperties": {"anyOf": [{"type": "string", "pattern": TIME_RANGE},
                                                        {"type": "array", "items": {"type": "string", "pattern": TIME_RANGE}}]}},
            "holidays": {"type": "array", "description": "Dates the line is closed, YYYY-MM-DD.",
                         "items": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}},
        }, ("open",)),
        "option": _obj("One choice of a menu: a key, phrases, or both.", {
            "keys": {"description": "Keypad keys that pick this option, e.g. \"1\".",
                     "anyOf": [{"type": "string", "pattern": r"^[0-9*#]+$"}, {"type": "integer", "minimum": 0}]},
            "say": {"description": "Phrases that pick this option (a bare yes/no is read as a phrase).",
                    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": ["string", "boolean"]}, "minItems": 1}]},
            "go": _ref("nodeId", "The node the call goes to."),
            "label": _text("How the option is named in key help and reports (default: the first phrase)."),
            "human": {"type": "boolean", "description": "This choice always goes to a person."},
        }, ("go",)),
        "test": {"description": "A plain value means 'equals'; or a mapping of tests: " + ", ".join(TESTS) + ".",
                 "anyOf": [{"type": ["string", "number", "boolean"]},
                           {"type": "object", "minProperties": 1, "additionalProperties": False,
                            "properties": {op: {} for op in TESTS}}]},
        "menu": _obj("Choose an option by key or by saying one of its phrases.", {
            "prompt": _ref("prompt"), "reprompt": _ref("prompt", "Played on later tries (more directed)."),
            "options": {"type": "array", "items": _ref("option"), "minItems": 1},
            "timeout": _int("Seconds to wait for the caller.", 1, 60),
            "operator_off": _text("Leave out the operator escape here; give the reason."),
        }, ("prompt", "options")),
        "collect": _obj("Ask for one value (a slot), check it, optionally read it back.", {
            "prompt": _ref("prompt"), "reprompt": _ref("prompt"),
            "slot": _obj("The value asked for.", {
                "name": _text("Slot name, used as {name} in later prompts.", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"),
                "kind": {"enum": list(SLOT_KINDS), "default": "digits"},
                "length": _int("Exact number of digits.", 1, 30), "min_length": _int("Fewest digits.", 1, 30),
                "max_length": _int("Most digits.", 1, 30),
                "min": {"type": "number"}, "max": {"type": "number"},
                "secret": {"type": "boolean", "description": "Never shown in logs, transcripts or transfers (PINs)."},
            }, ("name",)),
            "confirm": {"type": "boolean", "description": "Read the value back and ask yes or no."},
            "go": _ref("nodeId"), "timeout": _int("Seconds to wait for the caller.", 1, 60),
            "operator_off": _text("Leave out the operator escape here; give the reason."),
        }, ("prompt", "slot", "go")),
        "lookup": {**_obj("Fetch data about the caller's request; its fields are {lookup.FIELD} after 'found'.", {
            "http": _obj("An HTTP back end.", {
                "url": _text("http(s) URL; ${ENV} and {slot} are filled in."),
                "method": {"enum": ["GET", "POST"]}, "timeout": {"type": "number", "minimum": 0.1, "maximum": 10},
                "headers": {"type": "object", "additionalProperties": {"type": ["string", "number"]}}}, ("url",)),
            "table": _obj("Local data (demos, small lists).", {
                "key": _text("The row key, e.g. \"{order_id}\"."),
                "rows": {"type": "object", "additionalProperties": {"type": "object"}}}, ("key", "rows")),
            "found": _ref("nodeId"), "not_found": _ref("nodeId"),
            "error": _ref("nodeId", "When the back end fails (default: a person)."),
            "verifies": {"type": "boolean", "description": "A found record marks the caller as verified."},
        }, ("found", "not_found")), "oneOf": [{"required": ["http"]}, {"required": ["table"]}]},
        "branch": {"type": "array", "minItems": 1, "description": "Cases tried in order; the last is '- else: NODE'.",
                   "items": {"oneOf": [
                       _obj("A case.", {"if": {"type": "object", "minProperties": 1, "additionalProperties": _ref("test"),
                                               "description": "Variable -> test: slots, lookup.FIELD, caller, verified, "
                                                              "time, weekday, date."},
                                        "go": _ref("nodeId")}, ("if", "go")),
                       _obj("Where the call goes when no case holds.", {"else": _ref("nodeId")}, ("else",))]}},
        "hours": _obj("Is the line open now?", {
            "schedule": _ref("schedule", "Hours of this node (default: the flow's)."),
            "open": _ref("nodeId"), "closed": _ref("nodeId"), "holiday": _ref("nodeId", "Default: closed."),
        }, ("open", "closed")),
        "transfer": _obj("Hand the caller to a person, trying targets in order.", {
            "to": {"description": "Targets tried in order.",
                   "anyOf": [_ref("target"), {"type": "array", "items": _ref("target"), "minItems": 1}]},
            "reason": _text("Why the caller is coming to a person (whispered to the agent)."),
            "whisper": {"type": "boolean", "default": True}, "timeout": _int("Seconds to ring each target.", 5, 600),
            "prompt": _ref("prompt", "Said to the caller before dialling."),
            "fallback": _ref("nodeId", "When nobody answers (default: a voicemail)."),
        }, ("to",)),
        "voicemail": {"description": "Take a message.", "anyOf": [{"type": ["boolean", "null"]}, _obj("A voicemail.", {
            "prompt": _ref("prompt"), "max_length": _int("Longest message in seconds.", 5, 3600),
            "go": _ref("nodeId", "After the message (default: thank and hang up)."),
        })]},
        "callback": {"description": "Promise to call the caller back.", "anyOf": [{"type": ["boolean", "null"]}, _obj(
            "A callback promise.", {"prompt": _ref("prompt"), "within_minutes": _int("When the call back is due.", 5, 10080),
                                    "go": _ref("nodeId", "Afterwards (default: thank and hang up).")})]},
        "hangup": {"description": "Say goodbye and end the call.",
                   "anyOf": [{"type": ["boolean", "null"]}, _ref("prompt"), _obj("A goodbye.", {"prompt": _ref("prompt")})]},
    }


def _nodes() -> list[dict[str, Any]]:
    return [
        _node("menu", "A menu.", _ref("menu")),
        _node("collect", "Ask for a value.", _ref("collect")),
        {**_node("say", "Tell the caller something, then go on.", {"anyOf": [
            _ref("prompt"), _obj("A say with its own prompt and go.", {"prompt": _ref("prompt"), "go": _ref("nodeId")},
                                 ("prompt", "go"))]}, {"go": _ref("nodeId")})},
        _node("lookup", "Fetch data.", _ref("lookup")),
        _node("branch", "Go one way or another.", _ref("branch")),
        _node("hours", "Open or closed.", _ref("hours")),
        _node("transfer", "A person.", _ref("transfer")),
        _node("voicemail", "A message.", _ref("voicemail")),
        _node("callback", "A callback promise.", _ref("callback")),
        _node("hangup", "Goodbye.", _ref("hangup")),
        _node("goto", "Continue in another flow.", _text("The other flow's name.")),
    ]


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
            "flow": _text("The flow's name (unique among flows).", pattern=NODE_ID),
            "description": _text("What this line is for."),
            "numbers": {"type": "array", "description": "Phone numbers that reach this flow, E.164.",
                        "items": {"type": "string", "pattern": r"^\+\d{7,15}$"}},
            "default": {"type": "boolean", "description": "Serve numbers no flow claims."},
            "language": _text("Language of prompts and speech, e.g. en-US.", default="en-US"),
            "voice": _text("Text-to-speech voice, e.g. Polly.Joanna."),
            "timeout": _int("Seconds to wait for the caller at a prompt.", 1, 60),
            "hours": {**defs["schedule"], "description": "Business hours; calls outside them start at 'closed'.",
                      "properties": {**defs["schedule"]["properties"], "closed": _ref("nodeId", "Where after-hours calls start."),
                                     "holiday": _ref("nodeId", "Where calls start on a holiday (default: closed).")}},
            "operator": _obj("The escape to a person, live at every prompt unless a node opts out.", {
                "digit": _text("The key that asks for a person.", pattern=r"^[0-9*#]$", default="0"),
                "phrases": {"type": "array", "items": {"type": "string"}, "description": "Words that ask for a person."},
                "to": _ref("nodeId", "The transfer node that takes these callers."),
            }, ("to",)),
            "retry": _obj("How often a prompt is repeated.", {
                "no_input": _int("Silences before help.", 0, 5), "no_match": _int("Misunderstandings before help.", 0, 5),
                "then": _ref("nodeId", "Where the call goes when tries run out (default: operator.to)."),
            }),
            "escalation": _obj("When a frustrated or complex call goes to a person.", {
                "threshold": {"type": "number", "minimum": 0.05, "maximum": 1.0},
                "mode": {"enum": ["transfer", "offer"]},
                "weights": {"type": "object", "propertyNames": {"enum": list(SIGNALS)},
                            "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}},
                "topics": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                     {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}]},
                "max_minutes": {"type": "number", "minimum": 0.5, "maximum": 120},
                "to": _ref("nodeId", "Where escalated calls go (default: operator.to)."),
            }),
            "crm": _obj("Post the context record of every transfer to a CRM, signed (HMAC-SHA256).", {
                "url": _text("The CRM's webhook URL (https)."),
                "secret_env": _text("The environment variable that holds the shared secret."),
            }, ("url", "secret_env")),
            "env": {"type": "object", "description": "Defaults for ${NAME} in lookup URLs.",
                    "additionalProperties": {"type": ["string", "number"]}},
            "start": _ref("nodeId", "The first node of a call."),
            "nodes": {"type": "object", "minProperties": 1, "description": "The steps of the call, by name.",
                      "propertyNames": {"pattern": NODE_ID}, "additionalProperties": _ref("node")},
        },
        "$defs": defs,
    }
