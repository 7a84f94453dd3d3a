"""``ivr doctor``: check a deployment and say what to fix, one line per check.

Each line starts with ``OK``, ``WARN`` or ``FAIL`` and names what to change when it is
not OK. The exit code is 0 when nothing FAILed, 1 otherwise. It reads the same settings
as the server (environment, or ``config`` in tests) and contacts what the server needs:
its own public URL, the session store, Twilio's API. Every network check has a short
timeout. Secrets are never printed.

Checks, in order: settings parse; signature checks on (FAIL when IVR_VALIDATE_SIGNATURES
turns them off); TWILIO_AUTH_TOKEN; IVR_PUBLIC_URL (set, https, reachable: GET /healthz);
signatures (a request signed with the token validates against the public URL, here and,
when the server is reachable, at the server); admin token and secret key; flows valid;
store reachable (write and read a probe); a speech model per flow language; Twilio
credentials (fetch the account).
"""
from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from ivr.settings import Settings, SettingsError, load_settings

OK, WARN, FAIL = "OK", "WARN", "FAIL"
PROBE_KEY = "doctor:probe"


class Report:
    def __init__(self, out: TextIO):
        self.out = out
        self.lines: list[tuple[str, str]] = []

    def __call__(self, level: str, what: str, detail: str = "") -> None:
        self.lines.append((level, what))
        self.out.write(f"{level:<4}  {what}\n")
        for line in detail.splitlines():
            self.out.write(f"        {line}\n")

    @property
    def failed(self) -> bool:
        return any(level == FAIL for level, _ in self.lines)


def run_doctor(out: TextIO, config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
               timeout: float = 3.0) -> int:
    """Run every check, print one line each; 0 when none FAILed, else 1."""
    report = Report(out)
    try:
        settings = load_settings(config, environ)
    except SettingsError as exc:
        report(FAIL, f"settings: {exc}")
        return 1
    report(OK, "settings parse")
    checks: list[Callable[[Report, Settings, float, dict], None]] = [
        _signature_checks, _auth_token, _public_url, _signatures, _admin_and_secret_key, _flows, _agents, _store,
        _speech, _twilio]
    context: dict[str, Any] = {}  # what one check learns for the next: reachable, flows
    for check in checks:
        try:
            check(report, settings, timeout, context)
        except Exception as exc:  # a check of ours must not hide the others
            report(FAIL, f"{check.__name__.strip('_')}: the check itself failed: {type(exc).__name__}: {exc}")
    failures = sum(1 for level, _ in report.lines if level == FAIL)
    warnings = sum(1 for level, _ in report.lines if level == WARN)
    out.write(f"\n{failures} failure(s), {warnings} warning(s)\n")
    return 1 if failures else 0


def _signature_checks(report: Report, s: Settings, timeout: float, ctx: dict) -> None:
    if s.validate_signatures:
        report(OK, "signature checks are on")
    else:
        report(FAIL, "signature checks are OFF (IVR_VALIDATE_SIGNATURES is false): anyone who finds the server can "
               "drive calls; remove IVR_VALIDATE_SIGNATURES from the environment (checks are on by default) or "
               "set IVR_VALIDATE_SIGNATURES=true")


def _auth_token(report: Report, s: Settings, timeout: float, ctx: dict) -> None:
    if s.twilio_auth_token:
        report(OK, "TWILIO_AUTH_TOKEN is set")
    else:
        report(FAIL, "TWILIO_AUTH_TOKEN is not set: every webhook would be refused (403); set it (or "
               "TWILIO_AUTH_TOKEN_FILE) to your account's primary auth token")


def _public_url(report: Report, s: Settings, timeout: float, ctx: dict) -> None:
    import requests

    if not s.public_url:
        report(FAIL, "IVR_PUBLIC_URL is not set: set it to the https base URL Twilio calls "
               "(e.g. https://ivr.example.com), or signatures fail behind a proxy")
        return
    if not s.public_url.startswith("https://"):
        report(WARN, f"IVR_PUBLIC_URL={s.public_url} is not https: use TLS so the calls' data (and "
               "the signatures) cannot be read on the way")
    else:
        report(OK, f"IVR_PUBLIC_URL={s.public_url} is https")
    url = f"{s.public_url}/healthz"
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        report(FAIL, f"GET {url} failed ({type(exc).__name__}): start the server, or fix IVR_PUBLIC_URL, "
               "DNS or the proxy in front")
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("ok"):
        report(FAIL, f"GET {url} answered HTTP {response.status_code}, not this IVR's health check: "
               "IVR_PUBLIC_URL points somewhere else")
        return
    ctx["reachable"] = True
    report(OK, f"GET {url}: the server answers (flows: {', '.join(body.get('flows') or []) or 'none'})")


def _signatures(report: Report, s: Settings, timeout: float, ctx: dict) -> None:
    import requests
    from twilio.request_validator import RequestValidator

    if not s.twilio_auth_token or not s.public_url:
        report(WARN, "signature self-test skipped (needs TWILIO_AUTH_TOKEN and IVR_PUBLIC_URL)")
        return
    url = f"{s.public_url}/twilio/status"
    sid = "CA" + uuid.uuid4().hex  # a call nobody knows: the status callback stores nothing
    params = {"CallSid": sid, "AccountSid": s.twilio_account_sid or "AC" + "0" * 32, "CallStatus": "ringing",
              "From": "+15005550000", "To": "+15005550001", "ApiVersion": "2010-04-01", "Direction": "inbound"}
    validator = RequestValidator(s.twilio_auth_token)
    signature = validator.compute_signature(url, params)
    if not validator.validate(url, params, signature):
        report(FAIL, "signature self-test: a request signed with TWILIO_AUTH_TOKEN does not validate locally")
        return
    if not ctx.get("reachable"):
        report(WARN, "signature self-test: signed and validated locally; the server was not reachable to confirm")
        return
    try:
        response = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=timeout)
    except requests.RequestException as exc:
        report(FAIL, f"signature self-test: POST {url} failed ({type(exc).__name__})")
        return
    if response.status_code == 403:
        report(FAIL, f"signature self-test: the server refused a request signed for {url} with this "
               "TWILIO_AUTH_TOKEN: it runs with another token, or its IVR_PUBLIC_URL differs")
    elif response.status_code == 429:
        report(WARN, "signature self-test: the server is rate-limiting this address after failed checks; retry later")
    elif response.status_code >= 300:
        report(FAIL, f"signature self-test: POST {url} answered HTTP {response.status_code}")
    else:
        report(OK, f"signature self-test: the server accepts requests signed for {url}")


def _admin_and_secret_key(report: Report, s: Settings, timeout: float, ctx: dict) -> None:
    if s.admin_token:
        level = OK if len(s.admin_token) >= 16 else WARN
        report(level, "IVR_ADMIN_TOKEN is set" + ("" if level == OK else ", but shorter than 16 characters: "
                                                    "use a long random token (python -c 'import secrets; "
                                                    "print(secrets.token_urlsafe(32))')"))
    else:
        report(WARN, "IVR_ADMIN_TOKEN is not set: POST /admin/reload is disabled (SIGHUP and "
               "IVR_WATCH_FLOWS=1 still reload the flows)")
    if s.secret_key_is_random:
        report(WARN, "IVR_SECRET_KEY is not set: each process makes its own, so console sign-ins do not "
               "survive a restart or reach another host; set it (or IVR_SECRET_KEY_FILE)")
    else:
        report(OK, "IVR_SECRET_KEY is set")


def _flows(report: Report, s: Settings, timeout: float, ctx: dict) -> None:
    from ivr.flows.loader import load_directory
    from ivr.model.problems import format_problem

    if not s.flows_dir.is_dir():
        report(FAIL, f"IVR_FLOWS_DIR={s.flows_dir} is not a folder")
        return
    loaded = load_directory(s.flows_dir, s.audio_dir)
    ctx["flows"] = loaded.flows
    errors = loaded.errors
    if errors:
        detail = "\n".join(format_problem(p, loaded.sources.get(p.where.file)) for p in errors[:20])
        report(FAIL, f"flows: {len(errors)} error(s) in {s.flows_dir}; these files are refused (run "
               f"'ivr validate {s.flows_dir}')", detail)
    if not loaded.flows:
        report(FAIL, f"flows: no valid flow in {s.flows_dir}: every call would hear an apology")
        return
    warnings = [p for p in loaded.problems if p.severity == "warning"]
    if not errors:
        report(WARN if warnings else OK, f"flows valid: {', '.join(sorted(loaded.flows))}"
               + (f" ({len(warnings)} warning(s); run 'ivr validate')" if warnings else ""))


def _agents(report: Report, s: Settings, timeout: float, ctx: dict) -> None:
    """The agents file the console signs agents in from: readable, valid, every target well formed."""
    from ivr.model.targets import target_kind
    from ivr.web.agents import AgentsError, parse_agents

    if not s.agents_file:
        report(WARN, "IVR_AGENTS_FILE is not set: nobody can sign in to the agent console "
               "(see agents.example.yaml; make password hashes with: .venv/bin/ivr agents hash)")
        return
    try:
        roster = parse_agents(Path(s.agents_file).read_text(encoding="utf-8"), s.agents_file)
    except OSError as exc:
        report(FAIL, f"IVR_AGENTS_FILE={s.agents_file} cannot be read: {exc.strerror or exc}")
        return
    except (AgentsError, UnicodeDecodeError) as exc:
        report(FAIL, f"agents file {s.agents_file} is refused; the console keeps nobody signed in", str(exc))
        return
    odd = sorted({t for a in roster.agents.values() for t in a.targets if target_kind(t) is None})
    if odd:
        report(WARN, f"agents file: {len(roster.agents)} agent(s); targets that no transfer can name: "
               f"{', '.join(odd)}")
    else:
        report(OK, f"agents file: {len(roster.agents)} agent(s) can sign in to the console")


def _store(report: Report, s: Settings, timeout: float, ctx: dict) -> None:
    from ivr.settings import redact_url
    from ivr.store import open_store

    where = redact_url(s.store_url)
    try:
        store = open_store(s.store_url)
    except ValueError as exc:
        report(FAIL, f"store: {exc}")
        return
    token = uuid.uuid4().hex
    try:
        started = time.monotonic()
        store.append_event(PROBE_KEY, {"type": "DoctorProbe", "token": token, "at": time.time()})
        seen = any(e.get("token") == token for e in store.events(PROBE_KEY)[-50:])
        store.load(PROBE_KEY)
        ms = (time.monotonic() - started) * 1000
    except Exception as exc:
        report(FAIL, f"store {where} is not reachable: {exc}; start it or fix IVR_STORE")
        return
    finally:
        with contextlib.suppress(Exception):
            store.close()
    if not seen:
        report(FAIL, f"store {where}: a probe written was not read back")
    elif s.store_url.startswith("sqlite"):
        report(OK, f"store {where}: write and read back in {ms:.0f} ms (SQLite: one host only; "
               "use redis:// for several hosts)")
    else:
        report(OK, f"store {where}: write and read back in {ms:.0f} ms")


def _speech(report: Report, s: Settings, timeout: float, ctx: dict) -> None:
    from ivr.speech.models import SpeechSettings, resolve_model
    from ivr.speech.recognizer import ModelUnavailable, load_model

    flows = ctx.get("flows") or {}
    languages = sorted({f.language for f in flows.values()})
    if not s.stream_speech:
        report(OK, "speech: IVR_STREAM_SPEECH=false, Twilio's recogniser hears callers")
        return
    models = SpeechSettings(vosk_model=s.vosk_model, vosk_models=s.vosk_models, model_cache=s.model_cache)
    for language in languages:
        path = resolve_model(language, models)
        if not path:
            report(WARN, f"speech {language}: no Vosk model, Twilio's recogniser is used; for local speech set "
                   f"IVR_VOSK_MODELS={language}=/path/to/model or run 'ivr models pull NAME'")
            continue
        try:
            load_model(path)
        except ModelUnavailable as exc:
            report(FAIL, f"speech {language}: {exc}; fix IVR_VOSK_MODEL(S) or run 'ivr models pull NAME'")
            continue
        report(OK, f"speech {language}: Vosk model {path} loads")


def _twilio(report: Report, s: Settings, timeout: float, ctx: dict) -> None:
    if not s.twilio_account_sid:
        report(WARN, "TWILIO_ACCOUNT_SID is not set: speech redirects and warm transfers cannot use "
               "Twilio's REST API; set it to your account SID (AC...)")
        return
    if not s.twilio_auth_token:
        report(FAIL, "Twilio credentials not checked: TWILIO_AUTH_TOKEN is not set")
        return
    from twilio.base.exceptions import TwilioRestException
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(s.twilio_account_sid, s.twilio_auth_token,
                    http_client=TwilioHttpClient(timeout=min(timeout, s.twilio_timeout)))
    try:
        account = client.api.v2010.accounts(s.twilio_account_sid).fetch()
    except TwilioRestException as exc:
        if exc.status in (401, 403):
            report(FAIL, f"Twilio refused the credentials (HTTP {exc.status}, code {exc.code}): "
                   "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN do not belong together")
        elif exc.status == 404:
            report(FAIL, f"Twilio has no account {s.twilio_account_sid} (HTTP 404): check TWILIO_ACCOUNT_SID")
        else:
            report(FAIL, f"Twilio's API answered HTTP {exc.status} (code {exc.code}): {exc.msg}")
        return
    except Exception as exc:  # network: DNS, refused, timeout
        report(FAIL, f"Twilio's API cannot be reached ({type(exc).__name__}: {str(exc)[:160]}); "
               "check outbound HTTPS to api.twilio.com")
        return
    status = getattr(account, "status", "") or "?"
    level = OK if status == "active" else FAIL
    report(level, f"Twilio account {account.friendly_name!s} is {status}"
           + ("" if level == OK else ": calls cannot be made or redirected"))
