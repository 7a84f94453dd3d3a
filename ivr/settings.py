"""Settings, parsed once: environment (or a config mapping) -> a typed ``Settings``.

Every name is read from ``config`` first, then from the environment, so tests and
``create_app(config={...})`` use the same names as a deployment. Secrets (the Twilio auth
token, the console's secret key, the admin token) come only from here and are never
logged: each may be given directly (``TWILIO_AUTH_TOKEN``) or as a file to read
(``TWILIO_AUTH_TOKEN_FILE``, e.g. a mounted Docker/Kubernetes secret); ``repr`` hides
them and the password of a store URL.

A blank value (``IVR_FLOWS_DIR=`` left in an env file) means the default, for every name.
Flags fail closed: ``false``, ``0``, ``no`` or ``off`` (any case, spaces trimmed) turn a
flag off, anything else turns it on; so a blank ``IVR_VALIDATE_SIGNATURES=`` keeps
signature checks on.

``REFERENCE`` names every environment variable the package reads, with its default and
meaning; ``python -m ivr.settings --markdown > docs/SETTINGS.md`` writes it out, and
``tests/settings`` fails when a module reads a variable it does not list.
``startup_warnings(settings)`` returns what a server must log loudly when it starts.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Settings", "SettingsError", "load_settings", "audio_beside", "startup_warnings", "redact_url",
           "Variable", "REFERENCE", "FALSE_WORDS", "reference_names", "settings_markdown", "main"]


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and what to set."""


@dataclass(frozen=True)
class Settings:
    twilio_account_sid: str = ""
    twilio_auth_token: str = field(default="", repr=False)
    public_url: str = ""  # the base URL Twilio calls (https://ivr.example.com); empty: the request's own
    flows_dir: Path = Path("call_flows")
    audio_dir: Path = Path("audio")  # default: beside the flows folder, <flows_dir>/../audio
    store_url: str = ""
    validate_signatures: bool = True
    vosk_model: str = ""  # a model folder; empty: per-language map, cache, or Twilio's recogniser
    vosk_models: Mapping[str, str] = field(default_factory=dict)  # language -> model folder
    model_cache: Path = Path.home() / ".cache" / "ivr" / "models"
    secret_key: str = field(default="", repr=False)
    secret_key_is_random: bool = False  # IVR_SECRET_KEY was not set: this process made one up
    memory_key: str = field(default="", repr=False)  # keys the caller memory's hash (IVR_MEMORY_KEY, else IVR_SECRET_KEY)
    agents_file: str = ""
    fallback_number: str = ""  # dialled when even the flow cannot be run
    max_body_bytes: int = 64 * 1024
    twilio_timeout: float = 5.0
    stream_speech: bool = True  # use our own recogniser when a model is available
    admin_token: str = field(default="", repr=False)  # bearer token of /admin/*; empty: admin disabled
    watch_flows: bool = False  # poll the flows folder and reload on change
    watch_interval: float = 1.0
    failed_signature_limit: int = 20  # failed signature checks per source and window ...
    failed_signature_window: float = 60.0
    failed_signature_block: float = 300.0  # ... before the source gets 429 for this long
    var_dir: Path = Path("var")  # local state: the default SQLite store lives here
    records_url: str = ""  # the call records (SQL); empty: records.sqlite3 in var_dir
    media_sockets: int = 60  # media sockets open at once on this host (default: 30 per CPU core)
    sign_in_limit: int = 5  # failed console sign-ins or admin tokens from one address within the window ...
    sign_in_account_limit: int = 10  # ... or for one agent name from any address ...
    sign_in_window: float = 900.0
    sign_in_lockout: float = 60.0  # ... before a lock-out this long, doubled for each further one
    console_idle_timeout: float = 1800.0  # seconds without a page or action before a console session ends
    worklist_webhook_url: str = ""  # a signed POST per new voicemail or callback promise; empty: none
    worklist_webhook_secret: str = field(default="", repr=False)
    voicemail_transcripts: str = "off"  # off | twilio (Twilio transcribes) | local (our Vosk model, when it has one)

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f, d in self.__dataclass_fields__.items() if d.repr
                          and f != "store_url")
        return f"Settings(store_url={redact_url(self.store_url)!r}, {shown})"


def redact_url(url: str) -> str:
    """``redis://:secret@host/0`` -> ``redis://:***@host/0``."""
    return re.sub(r"(://[^:/@\s]*:)[^@\s]+@", r"\1***@", url)


FALSE_WORDS = ("false", "0", "no", "off")


def _flag(value: Any, default: bool) -> bool:
    """Only an explicit false word turns a flag off; blank means the default (fail closed)."""
    word = str(value).strip().lower()
    if not word:
        return default
    return word not in FALSE_WORDS


def load_settings(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    config = dict(config or {})
    env = os.environ if environ is None else environ

    def get(name: str, default: Any = "") -> Any:
        """``config`` first, then the environment; a blank value means the default."""
        value = config[name] if name in config else env.get(name, default)
        return default if isinstance(value, str) and not value.strip() else value

    def secret(name: str) -> str:
        """``NAME`` itself, or the content of the file ``NAME_FILE`` names (trailing newline dropped)."""
        value = str(get(name, ""))
        path = str(get(f"{name}_FILE", ""))
        if value or not path:
            return value
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise SettingsError(f"{name}_FILE={path!r} cannot be read ({exc.strerror}); "
                                f"point it at a readable file holding {name}") from None

    def number(name: str, default: float, kind: type[int] | type[float]) -> Any:
        """A whole number (``int``) or a number of seconds (``float``); blank means the default."""
        raw = get(name, default)
        try:
            return kind(str(raw).strip())
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise SettingsError(f"{name}={raw!r} is not {what}; set it like {name}={kind(default)} "
                                "or remove it for the default") from None

    var_dir = Path(get("IVR_VAR_DIR", "var"))
    flows_dir = Path(get("IVR_FLOWS_DIR", "call_flows"))
    store = secret("IVR_STORE")
    if not store:
        store = f"sqlite:///{var_dir.resolve() / 'calls.sqlite3'}"
    if not str(store).startswith(("sqlite://", "redis://", "rediss://", "unix://")):
        raise SettingsError(f"IVR_STORE={store!r} is not a store URL; use sqlite:///ABSOLUTE/PATH or redis://HOST:6379/0")
    public = str(get("IVR_PUBLIC_URL", "")).rstrip("/")
    if public and not public.startswith(("http://", "https://")):
        raise SettingsError(f"IVR_PUBLIC_URL={public!r} must start with https:// (the URL Twilio calls)")
    models = {}
    for item in str(get("IVR_VOSK_MODELS", "")).split(","):
        if "=" in item:
            lang, _, path = item.partition("=")
            models[lang.strip()] = path.strip()
    max_body = number("IVR_MAX_BODY_BYTES", 64 * 1024, int)
    timeout = number("IVR_TWILIO_TIMEOUT", 5.0, float)
    watch_interval = number("IVR_WATCH_INTERVAL", 1.0, float)
    fail_limit = number("IVR_FAILED_SIGNATURE_LIMIT", 20, int)
    fail_window = number("IVR_FAILED_SIGNATURE_WINDOW", 60.0, float)
    fail_block = number("IVR_FAILED_SIGNATURE_BLOCK", 300.0, float)
    secret_key = secret("IVR_SECRET_KEY")
    media_sockets = number("IVR_MEDIA_SOCKETS", _default_media_sockets(), int)
    sign_in_limit = number("IVR_SIGN_IN_LIMIT", 5, int)
    sign_in_account_limit = number("IVR_SIGN_IN_ACCOUNT_LIMIT", 10, int)
    sign_in_window = number("IVR_SIGN_IN_WINDOW", 900.0, float)
    sign_in_lockout = number("IVR_SIGN_IN_LOCKOUT", 60.0, float)
    idle = number("IVR_CONSOLE_IDLE_TIMEOUT", 1800.0, float)
    transcripts = str(get("IVR_VOICEMAIL_TRANSCRIPTS", "off")).strip().lower()
    if transcripts not in ("off", "twilio", "local"):
        raise SettingsError(f"IVR_VOICEMAIL_TRANSCRIPTS={transcripts!r}: use off, twilio or local")
    worklist_url = str(get("IVR_WORKLIST_WEBHOOK_URL", "")).strip()
    worklist_secret = secret("IVR_WORKLIST_WEBHOOK_SECRET")
    if worklist_url and not worklist_url.startswith(("https://", "http://")):
        raise SettingsError(f"IVR_WORKLIST_WEBHOOK_URL={worklist_url!r} must be an https:// URL")
    if worklist_url and not worklist_secret:
        raise SettingsError("IVR_WORKLIST_WEBHOOK_URL is set but IVR_WORKLIST_WEBHOOK_SECRET is not: "
                            "set a long random secret (the receiver checks the signature with it)")
    return Settings(
        twilio_account_sid=str(get("TWILIO_ACCOUNT_SID", "")),
        twilio_auth_token=secret("TWILIO_AUTH_TOKEN"),
        public_url=public,
        flows_dir=flows_dir,
        audio_dir=Path(get("IVR_AUDIO_DIR", "")) if get("IVR_AUDIO_DIR", "") else audio_beside(flows_dir),
        store_url=str(store),
        validate_signatures=_flag(get("IVR_VALIDATE_SIGNATURES", ""), default=True),
        vosk_model=str(get("IVR_VOSK_MODEL", "")),
        vosk_models=models,
        model_cache=Path(get("IVR_MODEL_CACHE", Path.home() / ".cache" / "ivr" / "models")),
        secret_key=secret_key or secrets.token_hex(32),
        secret_key_is_random=not secret_key,
        memory_key=secret("IVR_MEMORY_KEY") or secret_key,
        agents_file=str(get("IVR_AGENTS_FILE", "")),
        fallback_number=str(get("IVR_FALLBACK_NUMBER", "")),
        max_body_bytes=max_body,
        twilio_timeout=timeout,
        stream_speech=_flag(get("IVR_STREAM_SPEECH", ""), default=True),
        admin_token=secret("IVR_ADMIN_TOKEN"),
        watch_flows=_flag(get("IVR_WATCH_FLOWS", ""), default=False),
        watch_interval=max(watch_interval, 0.05),
        failed_signature_limit=max(fail_limit, 1),
        failed_signature_window=max(fail_window, 1.0),
        failed_signature_block=max(fail_block, 1.0),
        var_dir=var_dir,
        records_url=secret("IVR_RECORDS_URL") or f"sqlite:///{var_dir.resolve() / 'records.sqlite3'}",
        media_sockets=max(media_sockets, 1),
        sign_in_limit=max(sign_in_limit, 1),
        sign_in_account_limit=max(sign_in_account_limit, 1),
        sign_in_window=max(sign_in_window, 1.0),
        sign_in_lockout=max(sign_in_lockout, 1.0),
        console_idle_timeout=max(idle, 10.0),
        worklist_webhook_url=worklist_url,
        worklist_webhook_secret=worklist_secret,
        voicemail_transcripts=transcripts,
    )


def _default_media_sockets() -> int:
    """30 media streams per CPU core: what one core recognises in real time (measured 30 to 60)."""
    return max(1, (os.cpu_count() or 1) * 30)


def audio_beside(flows_dir: Path) -> Path:
    """The recordings of the project a flows folder belongs to: ``<flows_dir>/../audio``.

    A flow names its recordings ``audio/welcome.wav``, relative to its project (the folder
    above the flows folder), never to the working directory the server was started in.
    ``call_flows`` gives ``audio``; ``/srv/line/call_flows`` gives ``/srv/line/audio``.
    """
    if flows_dir.name in ("", ".", ".."):  # "." or "..": its parent is only known once resolved
        return flows_dir.resolve().parent / "audio"
    return flows_dir.parent / "audio"


def startup_warnings(settings: Settings) -> list[str]:
    """What a server must log loudly (WARNING or above) once, when it starts; empty when all is well.

    Signature checks turned off, no Twilio auth token, no stable secret key for console
    sign-ins. Each line says what is wrong and what to set.
    """
    warnings: list[str] = []
    if not settings.validate_signatures:
        warnings.append("SIGNATURE CHECKS ARE OFF (IVR_VALIDATE_SIGNATURES is false): anyone who finds this "
                        "server can drive calls and read what callers said. Remove IVR_VALIDATE_SIGNATURES "
                        "(checks are on by default) unless this is a local experiment.")
    if not settings.twilio_auth_token:
        if settings.validate_signatures:
            effect = "every webhook is refused (403)"
        else:
            effect = "Twilio's REST API cannot be used"
        warnings.append(f"TWILIO_AUTH_TOKEN is not set: {effect}. Set TWILIO_AUTH_TOKEN (or "
                        "TWILIO_AUTH_TOKEN_FILE) to your Twilio account's auth token.")
    if settings.secret_key_is_random or not settings.secret_key:
        warnings.append("IVR_SECRET_KEY is not set: this process made up its own, so console sign-ins end at "
                        "every restart and do not reach other hosts. Set IVR_SECRET_KEY (or IVR_SECRET_KEY_FILE) "
                        "to a long random value: python -c 'import secrets; print(secrets.token_hex(32))'")
    return warnings


# The reference. Rules of this part: one entry per variable the package reads, in the
# order a reader meets them; ``secret`` entries may also be given as NAME_FILE (``secret()``
# in load_settings) and the rendering adds that row. tests/settings checks this list
# against every read of the environment under ivr/, and docs/SETTINGS.md against
# ``settings_markdown()``.

@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, its default as a reader sees it, what it does."""

    name: str
    default: str
    meaning: str
    group: str
    secret: bool = False  # may be given as NAME_FILE, a file holding the value


TWILIO, PLACES, SPEECH, PEOPLE, LIMITS, DEV = (
    "Twilio", "Flows, audio and state", "Speech", "Agent console and admin", "Limits", "Read by ./dev only")

REFERENCE: tuple[Variable, ...] = (
    Variable("TWILIO_AUTH_TOKEN", "—", "your account's auth token: verifies `X-Twilio-Signature` and signs REST "
             "calls; without it every webhook is refused (403)", TWILIO, secret=True),
    Variable("TWILIO_ACCOUNT_SID", "—", "your account SID (`AC...`) for the REST client: live-call redirects after "
             "local speech, warm transfers with a hold conference; without it transfers are a plain `<Dial>`",
             TWILIO),
    Variable("IVR_PUBLIC_URL", "the request's own URL", "the https base URL Twilio calls (`https://ivr.example.com`); "
             "signatures are checked against it, so set it behind a proxy", TWILIO),
    Variable("IVR_VALIDATE_SIGNATURES", "`true`", "checks `X-Twilio-Signature` on every webhook; only `false`, `0`, "
             "`no` or `off` turns the checks off (a blank value keeps them on), for local experiments only: "
             "`ivr doctor` fails while they are off", TWILIO),
    Variable("IVR_TWILIO_TIMEOUT", "`5.0`", "seconds before a request to Twilio's REST API gives up", TWILIO),
    Variable("IVR_FLOWS_DIR", "`call_flows`", "the folder of flow files served", PLACES),
    Variable("IVR_AUDIO_DIR", "`audio` beside the flows folder (`<IVR_FLOWS_DIR>/../audio`)",
             "prompt recordings, served at `/audio/`; a prompt's `audio/welcome.wav` is this folder's "
             "`welcome.wav`, whatever folder the server was started in", PLACES),
    Variable("IVR_VAR_DIR", "`var`", "local state: the default SQLite store `calls.sqlite3` lives here", PLACES),
    Variable("IVR_STORE", "`sqlite:///<IVR_VAR_DIR>/calls.sqlite3`", "session store for live calls: `sqlite:///ABS/PATH` (one "
             "host) or `redis://HOST:6379/0` (several hosts; `rediss://` and `unix://` too). A finished call's hot "
             "state (its session, secret slots and turns) is kept `finished_ttl` seconds after the call ends, default "
             "86400: add `?finished_ttl=3600` to keep it an hour (`none`: until deleted)", PLACES, secret=True),
    Variable("IVR_RECORDS_URL", "`sqlite:///<IVR_VAR_DIR>/records.sqlite3`", "call records, one written by the server "
             "when each call ends, read by `ivr report`: `sqlite:///ABS/PATH` (one host) or `postgresql://USER@HOST/DB` "
             "(several hosts; a password from libpq's `PGPASSFILE` or `~/.pgpass` keeps it out of the URL)", PLACES,
             secret=True),
    Variable("IVR_RETENTION_DAYS", "`365`", "days call records (and voicemail and callback worklist items) are kept; "
             "`ivr purge` deletes older ones", PLACES),
    Variable("IVR_MEMORY_KEY", "`IVR_SECRET_KEY`", "the key of the caller memory's hash: a caller's profile is found by "
             "HMAC-SHA256 of their number under this key, never by the number. Keep it stable: with a new key the line "
             "recognises nobody, and `ivr forget` needs the same key. Neither set: flows' `memory:` is off", PLACES,
             secret=True),
    Variable("IVR_WORKLIST_WEBHOOK_URL", "—", "a signed JSON POST per new voicemail or callback promise (no number, "
             "recording or transcript; see docs/REPORTS.md, Worklists), retried off the call; needs "
             "`IVR_WORKLIST_WEBHOOK_SECRET`", PLACES),
    Variable("IVR_WORKLIST_WEBHOOK_SECRET", "—", "the key of the worklist notification's `X-IVR-Signature` "
             "(HMAC-SHA256 of `<t>.<body>`)", PLACES, secret=True),
    Variable("IVR_VOICEMAIL_TRANSCRIPTS", "`off`", "voicemail transcripts in the console: `twilio` (Twilio "
             "transcribes; English, billed by Twilio), `local` (the line's own Vosk model for the flow's language "
             "transcribes the recording, fetched with the account's credentials) or `off`", PLACES),
    Variable("IVR_FALLBACK_NUMBER", "the default flow's operator target", "dialled when the flow itself cannot run",
             PLACES),
    Variable("IVR_STREAM_SPEECH", "`true`", "recognise callers with our own Vosk model when one is available; "
             "`false`: always Twilio's recogniser", SPEECH),
    Variable("IVR_VOSK_MODEL", "—", "one Vosk model folder for every language", SPEECH),
    Variable("IVR_VOSK_MODELS", "—", "Vosk model folders per language: `en-US=/models/en,ko-KR=/models/ko`", SPEECH),
    Variable("IVR_MODEL_CACHE", "`~/.cache/ivr/models`", "where `ivr models pull` unpacks models, and where the "
             "server looks for them", SPEECH),
    Variable("IVR_AGENTS_FILE", "—", "the agent console's sign-ins (YAML with hashed passwords, see "
             "`agents.example.yaml`)", PEOPLE),
    Variable("IVR_SECRET_KEY", "random per start", "signs console sessions; set it in production so sign-ins "
             "survive a restart and reach every host", PEOPLE, secret=True),
    Variable("IVR_CONSOLE_IDLE_TIMEOUT", "`1800.0`", "seconds without a page view or an action after which a "
             "console session ends (the agent signs in again); signing out ends it at once, on every copy of "
             "its cookie", PEOPLE),
    Variable("IVR_SIGN_IN_LIMIT", "`5`", "failed console sign-ins or `/admin` tokens from one address within "
             "`IVR_SIGN_IN_WINDOW` before that address is locked out (429, nothing checked)", PEOPLE),
    Variable("IVR_SIGN_IN_ACCOUNT_LIMIT", "`10`", "failed sign-ins for one agent name, from any address, within "
             "`IVR_SIGN_IN_WINDOW` before that name is locked out", PEOPLE),
    Variable("IVR_SIGN_IN_WINDOW", "`900.0`", "seconds over which failed sign-ins are counted", PEOPLE),
    Variable("IVR_SIGN_IN_LOCKOUT", "`60.0`", "seconds of the first lock-out; each further one within a day "
             "lasts twice as long (up to 64 times). Counted in the session store, so every worker and host "
             "shares them", PEOPLE),
    Variable("IVR_ADMIN_TOKEN", "—", "bearer token of `POST /admin/reload`; empty: the admin endpoints answer 403",
             PEOPLE, secret=True),
    Variable("IVR_WATCH_FLOWS", "`false`", "poll the flows folder and reload the flows when a file changes (`SIGHUP` "
             "and `POST /admin/reload` reload them too)", PEOPLE),
    Variable("IVR_WATCH_INTERVAL", "`1.0`", "seconds between two looks at the flows folder (at least 0.05)", PEOPLE),
    Variable("IVR_MEDIA_SOCKETS", "30 per CPU core", "Media Streams sockets open at once on this host, shared "
             "by its worker processes; one more is refused before it is accepted (503, logged) and that call "
             "goes on with its keys", LIMITS),
    Variable("IVR_MAX_BODY_BYTES", "`65536`", "larger webhook bodies are refused (413)", LIMITS),
    Variable("IVR_FAILED_SIGNATURE_LIMIT", "`20`", "failed signature checks from one source within the window "
             "before that source is blocked", LIMITS),
    Variable("IVR_FAILED_SIGNATURE_WINDOW", "`60.0`", "seconds over which failed signature checks are counted", LIMITS),
    Variable("IVR_FAILED_SIGNATURE_BLOCK", "`300.0`", "seconds a blocked source gets 429 for every request", LIMITS),
    Variable("IVR_HOST", "`127.0.0.1`", "the address `./dev demo` serves on", DEV),
    Variable("IVR_PORT", "`8080`", "the port `./dev demo` serves on", DEV),
    Variable("PYTHON", "`python3`", "the Python (3.11 or newer) `./dev` makes its virtualenv with", DEV),
)


def reference_names(*, with_dev: bool = True) -> set[str]:
    """Every documented name, ``NAME_FILE`` forms included."""
    names: set[str] = set()
    for v in REFERENCE:
        if v.group == DEV and not with_dev:
            continue
        names.add(v.name)
        if v.secret:
            names.add(f"{v.name}_FILE")
    return names


_INTRO = """\
# Settings

<!-- Generated from ivr/settings.py by `python -m ivr.settings --markdown > docs/SETTINGS.md`;
     edit REFERENCE there, not this file (tests/settings fails when they differ). -->

Every environment variable the support line reads, with its default and meaning. The same
names work as keys of `ivr.create_app(config={...})`, which win over the environment.

- An empty value (`IVR_FLOWS_DIR=` left in an env file) means the default.
- Flags fail closed: `false`, `0`, `no` or `off` (any case) turn a flag off, anything
  else turns it on.
- Secrets (marked *secret*) may instead be given as `NAME_FILE`, the path of a file that
  holds the value (a mounted Docker or Kubernetes secret); `NAME` wins when both are set.
  They are never logged.
- A malformed number stops the server with a message naming the variable.
- `ivr doctor` checks a deployment's settings and says what to fix.
"""

_FLOW_NAMED: tuple[tuple[str, str, str], ...] = (  # where in a flow, read as, meaning
    ("`${NAME}` in a lookup's `http: {url: ...}`", "`NAME` (else the flow's `env:` default)",
     "a part of the lookup URL, such as `${ORDER_API}`; unset and without a default is a validation error"),
    ("`crm: {url, secret_env: NAME}`", "`NAME`",
     "the shared secret that signs the context record posted to the CRM; unset: the CRM webhook is off (a warning)"),
)


def settings_markdown() -> str:
    """The reference as Markdown: the content of docs/SETTINGS.md."""
    parts = [_INTRO]
    groups = list(dict.fromkeys(v.group for v in REFERENCE))
    for group in groups:
        if group == DEV:
            continue
        parts.append(f"## {group}\n\n| name | default | meaning |\n|---|---|---|\n")
        for v in REFERENCE:
            if v.group != group:
                continue
            parts[-1] += f"| `{v.name}`{' *secret*' if v.secret else ''} | {v.default} | {v.meaning} |\n"
            if v.secret:
                parts[-1] += (f"| `{v.name}_FILE` | — | a file holding `{v.name}` (trailing newline dropped); "
                              f"read when `{v.name}` is empty |\n")
    parts.append("## Variables your flows name\n\nA flow may name environment variables of its own; they are read "
                 "when the flow loads:\n\n| where in a flow | read as | meaning |\n|---|---|---|\n"
                 + "".join(f"| {where} | {read} | {meaning} |\n" for where, read, meaning in _FLOW_NAMED))
    parts.append(f"## {DEV}\n\n| name | default | meaning |\n|---|---|---|\n"
                 + "".join(f"| `{v.name}` | {v.default} | {v.meaning} |\n" for v in REFERENCE if v.group == DEV))
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ivr.settings --markdown``: print the settings reference."""
    parser = argparse.ArgumentParser(prog="python -m ivr.settings",
                                     description="Print the settings reference. Example: "
                                                 "python -m ivr.settings --markdown > docs/SETTINGS.md")
    parser.add_argument("--markdown", action="store_true", help="Markdown, as in docs/SETTINGS.md (the default)")
    parser.parse_args(argv)
    sys.stdout.write(settings_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
