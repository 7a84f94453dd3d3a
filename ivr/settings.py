"""Settings, parsed once: environment (or a config mapping) -> a typed ``Settings``.

Every name is read from ``config`` first, then from the environment, so tests and
``create_app(config={...})`` use the same names as a deployment. Secrets (the Twilio auth
token, the console's secret key, the admin token) come only from here and are never
logged: each may be given directly (``TWILIO_AUTH_TOKEN``) or as a file to read
(``TWILIO_AUTH_TOKEN_FILE``, e.g. a mounted Docker/Kubernetes secret); ``repr`` hides
them and the password of a store URL.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and what to set."""


@dataclass(frozen=True)
class Settings:
    twilio_account_sid: str = ""
    twilio_auth_token: str = field(default="", repr=False)
    public_url: str = ""  # the base URL Twilio calls (https://ivr.example.com); empty: the request's own
    flows_dir: Path = Path("call_flows")
    audio_dir: Path = Path("audio")
    store_url: str = ""
    validate_signatures: bool = True
    vosk_model: str = ""  # a model folder; empty: per-language map, cache, or Twilio's recogniser
    vosk_models: Mapping[str, str] = field(default_factory=dict)  # language -> model folder
    model_cache: Path = Path.home() / ".cache" / "ivr" / "models"
    secret_key: str = field(default="", repr=False)
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

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f, d in self.__dataclass_fields__.items() if d.repr
                          and f != "store_url")
        return f"Settings(store_url={redact_url(self.store_url)!r}, {shown})"

    @property
    def var_dir(self) -> Path:
        return Path(os.environ.get("IVR_VAR_DIR", "var"))


def redact_url(url: str) -> str:
    """``redis://:secret@host/0`` -> ``redis://:***@host/0``."""
    return re.sub(r"(://[^:/@\s]*:)[^@\s]+@", r"\1***@", url)


def _flag(value: Any) -> bool:
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


def load_settings(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    config = dict(config or {})
    env = os.environ if environ is None else environ

    def get(name: str, default: Any = "") -> Any:
        return config[name] if name in config else env.get(name, default)

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

    store = secret("IVR_STORE")
    if not store:
        var = Path(get("IVR_VAR_DIR", "var")).resolve()
        store = f"sqlite:///{var / 'calls.sqlite3'}"
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
    try:
        max_body = int(get("IVR_MAX_BODY_BYTES", 64 * 1024))
        timeout = float(get("IVR_TWILIO_TIMEOUT", 5.0))
        watch_interval = float(get("IVR_WATCH_INTERVAL", 1.0))
        fail_limit = int(get("IVR_FAILED_SIGNATURE_LIMIT", 20))
        fail_window = float(get("IVR_FAILED_SIGNATURE_WINDOW", 60.0))
        fail_block = float(get("IVR_FAILED_SIGNATURE_BLOCK", 300.0))
    except ValueError as exc:
        raise SettingsError(f"a numeric setting is malformed: {exc}") from None
    return Settings(
        twilio_account_sid=str(get("TWILIO_ACCOUNT_SID", "")),
        twilio_auth_token=secret("TWILIO_AUTH_TOKEN"),
        public_url=public,
        flows_dir=Path(get("IVR_FLOWS_DIR", "call_flows")),
        audio_dir=Path(get("IVR_AUDIO_DIR", "audio")),
        store_url=str(store),
        validate_signatures=_flag(get("IVR_VALIDATE_SIGNATURES", "true")),
        vosk_model=str(get("IVR_VOSK_MODEL", "")),
        vosk_models=models,
        model_cache=Path(get("IVR_MODEL_CACHE", Path.home() / ".cache" / "ivr" / "models")),
        secret_key=secret("IVR_SECRET_KEY") or secrets.token_hex(32),
        agents_file=str(get("IVR_AGENTS_FILE", "")),
        fallback_number=str(get("IVR_FALLBACK_NUMBER", "")),
        max_body_bytes=max_body,
        twilio_timeout=timeout,
        stream_speech=_flag(get("IVR_STREAM_SPEECH", "true")),
        admin_token=secret("IVR_ADMIN_TOKEN"),
        watch_flows=_flag(get("IVR_WATCH_FLOWS", "false")),
        watch_interval=max(watch_interval, 0.05),
        failed_signature_limit=max(fail_limit, 1),
        failed_signature_window=max(fail_window, 1.0),
        failed_signature_block=max(fail_block, 1.0),
    )
