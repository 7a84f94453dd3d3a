"""``create_app(config=None)``: the Flask application that answers the support line.

Config flows one way: environment (or ``config``, same names) -> ``Settings`` -> the
parts this factory wires: the flow library, the session store, the lookups, the
signature guard, and the blueprints (Twilio webhooks, audio files).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, Response, abort, current_app, send_from_directory
from twilio.request_validator import RequestValidator

from ivr import twiml
from ivr.flows.library import FlowLibrary, NoFlow
from ivr.model.problems import format_problem
from ivr.runtime.lookups import http_lookup
from ivr.flows.nodes.transfer import TransferNode
from ivr.settings import Settings, load_settings
from ivr.store import open_store

from ivr import logs

from . import admin, defence, hooks

log = logging.getLogger("ivr")
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ulaw": "audio/basic", ".aiff": "audio/aiff", ".gsm": "audio/gsm"}


class SignatureGuard:
    """Checks ``X-Twilio-Signature`` against the public URL Twilio called."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.validator = RequestValidator(settings.twilio_auth_token)

    def url_of(self, request) -> str:
        if not self.settings.public_url:
            return request.url
        query = request.query_string.decode("latin-1")
        return self.settings.public_url + request.path + (f"?{query}" if query else "")

    def check(self, request) -> bool:
        if not self.settings.validate_signatures:
            return True
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self.settings.twilio_auth_token:
            log.warning("refused %s from %s: %s", request.path, request.remote_addr,
                        "no signature" if not signature else "TWILIO_AUTH_TOKEN is not set")
            return False
        if not self.validator.validate(self.url_of(request), request.form, signature):
            log.warning("refused %s from %s: the signature does not match (check IVR_PUBLIC_URL and the auth token)",
                        request.path, request.remote_addr)
            return False
        return True


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(config)
    app = Flask("ivr")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["IVR_SETTINGS"] = settings
    if settings.store_url.startswith("sqlite:///"):
        Path(settings.store_url[len("sqlite://"):].split("?")[0]).parent.mkdir(parents=True, exist_ok=True)

    logs.install([settings.twilio_auth_token, settings.admin_token, settings.secret_key])
    store = open_store(settings.store_url)
    # every loaded flow version is kept in the store, so any host can serve any live call
    library = FlowLibrary(settings.flows_dir, settings.audio_dir, archive=store)
    for problem in library.reload():
        log.log(logging.ERROR if problem.severity == "error" else logging.WARNING, "%s", format_problem(problem))
    if not library.flows:
        log.error("no valid flow in %s: every call will go to IVR_FALLBACK_NUMBER (%s)", settings.flows_dir,
                  settings.fallback_number or "not set: callers hear an apology")
    if settings.validate_signatures and not settings.twilio_auth_token:
        log.warning("TWILIO_AUTH_TOKEN is not set: every webhook will be refused (403). Set it to your "
                    "account's auth token (or IVR_VALIDATE_SIGNATURES=false for local experiments only).")

    logs.install(slot_names={name for flow in library.flows.values() for name in flow.secrets})
    from .line import Line, now

    line = Line(library, store, http_lookup)
    app.extensions.update({
        "ivr.settings": settings,
        "ivr.library": library,
        "ivr.store": store,
        "ivr.line": line,
        "ivr.clock": now,  # the only clock the webhooks read; tests replace it
        "ivr.signatures": SignatureGuard(settings),
        "ivr.urls": lambda: twiml.Urls(_base_url(settings)),
        "ivr.emergency": lambda: _emergency(settings, library),
        "ivr.speech_for": lambda applied: twiml.Speech(),
    })
    app.register_blueprint(hooks.bp)
    defence.init_app(app, settings, store)  # failed-signature limits, request limits
    admin.init_app(app, settings, library, store)  # /admin/reload, flow watcher, reloads across hosts
    from . import media, transfer

    media.init_app(app, settings, library, line)
    from . import console

    console.init_app(app)  # the agent console under /console
    transfer.init_app(app, settings, line)

    @app.get("/audio/<path:name>")
    def audio(name: str) -> Response:
        suffix = Path(name).suffix.lower()
        if suffix not in AUDIO_TYPES:
            abort(404)
        response = send_from_directory(settings.audio_dir.resolve(), name, mimetype=AUDIO_TYPES[suffix], max_age=86400)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True, "flows": sorted(library.flows)}

    return app


def _base_url(settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url
    from flask import request
    return request.host_url.rstrip("/")


def _emergency(settings: Settings, library: FlowLibrary) -> str:
    """When the flow itself cannot run: apologise and dial a person, never silence."""
    apology = "Sorry, something went wrong on our side. Let me get you to someone who can help."
    target = settings.fallback_number
    if not target:
        try:
            flow = library.for_number("")
            node = flow.nodes.get(flow.operator.to)
            if isinstance(node, TransferNode):
                target = next((t for t in node.targets if not t.startswith("queue:")), "")
        except NoFlow:
            target = ""
    if not target:
        return twiml.simple(apology, "Please call again in a few minutes. Goodbye.", hangup=True)
    return twiml.emergency(apology, target)


__all__ = ["create_app", "current_app"]
