"""Which call a log line is about: the CallSid of the request, in every line it causes.

Gunicorn's access log cannot read a form field, and Twilio sends the CallSid in the form
(in the query string of a GET). ``CallSidMiddleware`` looks for it before the app runs,
puts it into the WSGI environ as ``ivr.call_sid`` (gunicorn's access-log format may name it
as ``%({ivr.call_sid}e)s``) and into a context variable of the request's thread until the
server closes the answer. ``CallSidFilter`` copies it onto every log record as ``call_sid``
(``-`` outside a call): the app's lines and the server's access-log line (written before
the answer is closed) both carry it.

Wiring (idempotent)::

    requestlog.install(app)          # in create_app, once the app exists

and in the logging configuration a filter ``ivr.web.requestlog.CallSidFilter`` on the
handler, with ``%(call_sid)s`` in its format (``gunicorn.conf.py`` does both).

Rules of this file: the body is read only for a form post no larger than the app's limit
(the app refuses larger ones itself); it is handed on unchanged, as a fresh stream with
the same length. A CallSid is letters and digits only (Twilio's ``CA`` + 32 hex), so
nothing a caller typed or said can reach a log through it.
"""
from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar, Token
from typing import Any

__all__ = ["CallSidFilter", "CallSidMiddleware", "ENVIRON_KEY", "current_call_sid", "install"]

ENVIRON_KEY = "ivr.call_sid"
NONE = "-"
_SID = re.compile(rb"(?:^|&)CallSid=([A-Za-z0-9]{1,64})(?:&|$)")
_call_sid: ContextVar[str] = ContextVar("ivr_call_sid", default=NONE)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def current_call_sid() -> str:
    """The CallSid of the request this thread is answering (``-`` when none)."""
    return _call_sid.get()


def _sid_in(data: bytes) -> str | None:
    match = _SID.search(data)
    return match.group(1).decode("ascii") if match else None


class CallSidMiddleware:
    """Finds the request's CallSid (form or query string) before the app runs."""

    def __init__(self, app: WsgiApp, max_body_bytes: int = 64 * 1024) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, wsgi_environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        sid = _sid_in(wsgi_environ.get("QUERY_STRING", "").encode("latin-1"))
        if sid is None and wsgi_environ.get("REQUEST_METHOD") == "POST" and \
                wsgi_environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            try:
                length = int(wsgi_environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if 0 < length <= self.max_body_bytes:
                body = wsgi_environ["wsgi.input"].read(length)
                wsgi_environ["wsgi.input"] = io.BytesIO(body)
                wsgi_environ["CONTENT_LENGTH"] = str(len(body))
                sid = _sid_in(body)
        wsgi_environ[ENVIRON_KEY] = sid or NONE
        token = _call_sid.set(sid or NONE)
        try:
            return _UntilClosed(self.app(wsgi_environ, start_response), token)
        except BaseException:
            _forget(token)
            raise


def _forget(token: Token[str]) -> None:
    try:
        _call_sid.reset(token)
    except ValueError:  # closed from another context than the one that set it
        _call_sid.set(NONE)


class _UntilClosed:
    """The app's answer; the CallSid stays this thread's until the server closes it, so
    the server's access-log line (written before ``close``) carries it too."""

    def __init__(self, inner: Iterable[bytes], token: Token[str]) -> None:
        self.inner = inner
        self.token: Token[str] | None = token

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.inner)

    def close(self) -> None:
        try:
            close = getattr(self.inner, "close", None)
            if close is not None:
                close()
        finally:
            if self.token is not None:
                _forget(self.token)
                self.token = None


class CallSidFilter(logging.Filter):
    """Adds ``call_sid`` to every record (the request's CallSid, else ``-``); drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "call_sid"):
            record.call_sid = _call_sid.get()
        return True


def install(app: Any) -> bool:
    """Wrap a Flask app's ``wsgi_app`` once; False when it was already wrapped."""
    if isinstance(app.wsgi_app, CallSidMiddleware):
        return False
    limit = app.config.get("MAX_CONTENT_LENGTH") or 64 * 1024
    app.wsgi_app = CallSidMiddleware(app.wsgi_app, int(limit))
    return True
