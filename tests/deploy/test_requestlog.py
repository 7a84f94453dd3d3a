"""ivr.web.requestlog: the CallSid of a request reaches its log lines; the body reaches the app unchanged."""
from __future__ import annotations

import io
import logging
from typing import Any

from flask import Flask, request

from ivr.web import requestlog

SID = "CA" + "ab" * 16


def logged_app(records: list[logging.LogRecord]) -> Flask:
    app = Flask("requestlog-test")
    log = logging.getLogger("requestlog-test")

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(requestlog.CallSidFilter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    @app.post("/twilio/voice")
    def voice() -> str:
        log.info("answered")
        return f"{request.form.get('CallSid')}|{request.form.get('Digits')}"

    assert requestlog.install(app) is True
    assert requestlog.install(app) is False  # once only
    return app


def test_a_form_post_logs_its_call_and_reaches_the_app_unchanged() -> None:
    records: list[logging.LogRecord] = []
    app = logged_app(records)
    reply = app.test_client().post("/twilio/voice", data={"CallSid": SID, "Digits": "1234#"})
    assert reply.get_data(as_text=True) == f"{SID}|1234#"
    assert [getattr(r, "call_sid", None) for r in records] == [SID]
    reply.close()
    assert requestlog.current_call_sid() == "-"  # the answer was closed: the call is forgotten


def test_the_query_string_counts_and_a_request_without_a_call_logs_a_dash() -> None:
    records: list[logging.LogRecord] = []
    app = logged_app(records)
    client = app.test_client()
    client.post(f"/twilio/voice?CallSid={SID}", data={"From": "+15551230000"})
    client.post("/twilio/voice", data={"CallSidx": SID})
    client.post("/twilio/voice", data={"CallSid": "CA<script>"})
    assert [getattr(r, "call_sid", None) for r in records] == [SID, "-", "-"]


def test_the_environ_carries_the_call_until_the_server_closes_the_answer() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen["body"] = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    body = f"From=%2B1555&CallSid={SID}".encode()
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded",
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "QUERY_STRING": ""}
    answer = requestlog.CallSidMiddleware(app)(environ, lambda *a: None)
    assert list(answer) == [b"ok"] and seen["body"] == body
    assert environ[requestlog.ENVIRON_KEY] == SID and requestlog.current_call_sid() == SID
    answer.close()  # type: ignore[attr-defined]
    assert requestlog.current_call_sid() == "-"
