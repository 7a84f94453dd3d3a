"""``create_app(config=None)``: the Flask application that answers the support line.

Config flows one way: environment (or ``config``, same names) -> ``Settings`` -> the
parts this factory wires: the flow library, the session store, the lookups, the
signature guard, and the blueprints (Twilio webhooks, audio files). The parts are kept
together in one ``Services`` (``ivr.web.services``), stored once as
``app.extensions["ivr"]`` and read through ``services(app)``.

Under gunicorn's ``preload_app`` (``gunicorn.conf.py``) the app is made once in the
master, its speech models shared by the workers: ``before_fork`` and ``after_fork``
(``ivr.web.forking``) let go of, then make again in each worker, what must not cross a
fork (the store's connections, the reload listener and watcher, the hold sweep).

A line whose flows do not all load does not start: ``create_app`` raises
``FlowsNotLoaded`` naming each file and why (a reload later keeps the last good version of a
broken file serving instead).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, abort, send_from_directory

from ivr import logs
from ivr.flows.library import FlowLibrary
from ivr.model.problems import format_problem
from ivr.runtime.lookups import http_lookup
from ivr.settings import Settings, load_settings, startup_warnings
from ivr.store import open_store
from ivr.telephony.rest import TwilioRest

from . import admin, console, console_reports, console_work, defence, hooks, landing, media, transfer
from .agents import AgentsFile
from .forking import after_fork, before_fork
from .keeper import open_keeper
from .line import Line
from .services import EXTENSION, Background, Services, services
from .signatures import SignatureCheck

log = logging.getLogger("ivr")
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ulaw": "audio/basic", ".aiff": "audio/aiff", ".gsm": "audio/gsm"}


class SignatureGuard:
    """Checks ``X-Twilio-Signature`` against the public URL Twilio called."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.validator = SignatureCheck(settings.twilio_auth_token)  # twilio's rules, one HMAC when valid

    def url_of(self, request: Request) -> str:
        if not self.settings.public_url:
            return str(request.url)
        query = request.query_string.decode("latin-1")
        return f"{self.settings.public_url}{request.path}" + (f"?{query}" if query else "")

    def check(self, request: Request) -> bool:
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
        if problem.severity != "error":  # errors stop the start below, each with its file and line
            log.warning("%s", format_problem(problem))
    refusal = library.startup_problems()  # every flow file loads, or the line does not start
    if refusal is not None:
        raise refusal
    for warning in startup_warnings(settings):  # checks off, no token, no stable secret key: said loudly
        log.warning("%s", warning)

    logs.install(slot_names={name for flow in library.flows.values() for name in flow.secrets})
    remembering = sorted(name for name, flow in library.flows.items() if flow.memory is not None)
    if remembering and not settings.memory_key:
        log.warning("caller memory is off for %s: set IVR_MEMORY_KEY (or IVR_SECRET_KEY) to a stable secret; "
                    "a caller's profile is found by a keyed hash of their number", ", ".join(remembering))
    rest = TwilioRest(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_timeout) \
        if settings.twilio_account_sid else None
    background = Background()  # REST work, off the webhooks' threads
    speech = media.LocalSpeech(settings, library, store, rest, background)
    speech.load_models()
    keeper = open_keeper(settings.records_url, store, background, settings.memory_key)  # a call's record when it ends
    line = Line(library, store, http_lookup, streams_speech=speech.hears,
                call_ended=keeper.call_ended if keeper is not None else None, prompt_moved=speech.prompt_moved)
    app.extensions[EXTENSION] = Services(
        settings=settings, library=library, store=store, line=line,
        signatures=defence.init_app(app, settings, store, SignatureGuard(settings)),
        speech=speech,
        reloader=admin.init_app(app, settings, library, store),  # /admin/reload, flow watcher, other hosts
        agents=AgentsFile(settings.agents_file),
        background=background,
        warm=transfer.warm_transfer(settings, line, rest, background),
        keeper=keeper,
    )
    app.register_blueprint(hooks.bp)
    media.init_app(app, speech)  # the Media Streams socket
    console.init_app(app, settings)  # the agent console under /console
    console_work.init_app(app)  # worklists: voicemails and callbacks (pages on the console, Twilio's hooks)
    console_reports.init_app(app)  # reports and the heat map, on the console
    transfer.init_app(app)
    landing.init_app(app)  # GET /: what is running and how to call it

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


__all__ = ["SignatureGuard", "after_fork", "before_fork", "create_app", "services"]
