"""``GET /``: what this support line is running and how to call it.

A person who opens the server's address sees the flows and the numbers they answer, where
live calls are kept, how speech is recognised for each flow (our own Vosk model for its
language, or Twilio's recogniser), whether Twilio's signatures are checked, how to reach
the line (a Twilio number's webhooks, or ``ivr call FLOW`` from a terminal) and a link to
the agent console. ``Accept: application/json`` gets the same facts as JSON, which is how
``ivr call`` finds the number of the flow it is asked to call.

Nothing secret is shown: no token, no store URL (only its kind), no file of a flow.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, render_template, request

from .services import services

__all__ = ["LineFacts", "FlowFacts", "facts", "init_app"]

bp = Blueprint("landing", __name__, template_folder="templates")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
DEFAULT_BASE = "http://127.0.0.1:8080"  # what `ivr call` calls when given no --url


@dataclass(frozen=True)
class FlowFacts:
    name: str
    description: str
    numbers: tuple[str, ...]
    default: bool  # takes the calls to numbers no flow names
    language: str
    speech: str  # "local" (our Vosk model) or "twilio" (Twilio's recogniser)


@dataclass(frozen=True)
class LineFacts:
    flows: tuple[FlowFacts, ...]
    refused: tuple[str, ...]  # "file: why" of flow files that did not load and serve nothing
    store: str  # "SQLite" or "Redis"
    signatures: bool  # X-Twilio-Signature is checked on every webhook
    has_token: bool  # TWILIO_AUTH_TOKEN is set (without it, with checks on, every webhook is refused)
    warm_transfer: bool  # TWILIO_ACCOUNT_SID is set: callers wait in a conference while agents are dialled
    base_url: str  # the URL Twilio calls (IVR_PUBLIC_URL, else this request's)
    local: bool  # this request came to a local address: `ivr call` works from this machine


def facts() -> LineFacts:
    """The facts of the line serving the current request."""
    parts = services()
    settings = parts.settings
    flows = tuple(FlowFacts(flow.name, flow.description, tuple(flow.numbers), flow.default, flow.language,
                            "local" if parts.speech.hears(flow.language) else "twilio")
                  for flow in sorted(parts.library.flows.values(), key=lambda f: (not f.numbers, f.name)))
    refused = tuple(f"{r.file}: {r.reason}" for r in parts.library.refused)
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    return LineFacts(flows=flows, refused=refused,
                     store="Redis" if settings.store_url.startswith(("redis", "unix")) else "SQLite",
                     signatures=settings.validate_signatures, has_token=bool(settings.twilio_auth_token),
                     warm_transfer=bool(settings.twilio_account_sid), base_url=parts.base_url(),
                     local=host in LOCAL_HOSTS)


def call_command(line: LineFacts, flow: str) -> str:
    """The terminal command that calls ``flow`` on this line."""
    base = request.host_url.rstrip("/")
    return f".venv/bin/ivr call {flow}" + ("" if base == DEFAULT_BASE else f" --url {base}")


@bp.get("/")
def index() -> Response | str:
    line = facts()
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        data: dict[str, Any] = asdict(line)
        return jsonify(data)
    callable_flow = next((f.name for f in line.flows if f.numbers), "")
    return render_template("console/landing.html", line=line,
                           command=call_command(line, callable_flow) if callable_flow else "")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
