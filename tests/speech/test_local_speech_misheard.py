"""Whole calls over a real media socket: what our recogniser rejects is a misunderstanding.

The caller at the Korean demo line's main menu says something that is none of its
answers ("환불하고 싶어요", I want a refund). The recogniser rejects it (``NotUnderstood``);
the socket saves it with the call as rejected speech and redirects the call; the step
applies it as a no-match: the caller hears the line's "Sorry, I didn't get that"
("잘 알아듣지 못했습니다"), never the apology for silence, and is asked again.
"""
from __future__ import annotations

import re

import responses
from test_local_speech_call import UTTERANCES, _apply_redirect, _korean_call, _redirects, _stream, line  # noqa: F401

from ivr.web.services import services

NOT_UNDERSTOOD = "잘 알아듣지 못했습니다"  # the Korean line's "Sorry, I didn't get that."
SILENCE = "아무 말씀도 듣지 못했습니다"  # its "Sorry, I didn't hear anything."


def test_out_of_grammar_speech_is_a_misunderstanding_not_silence(line):  # noqa: F811
    app, port = line
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(f"http://127.0.0.1:{port}")
        rsps.add(responses.POST, re.compile(r"https://api\.twilio\.com/.*/Calls/CA\w+\.json"), json={}, status=200)
        call = _korean_call(app)
        sid = call.params["CallSid"]
        params = dict(call.streams[-1].parameters)
        _stream(port, params, (UTTERANCES / "oog_refund.ulaw").read_bytes(), sid, after=lambda: _redirects(rsps))
        assert len(_redirects(rsps)) == 1, "the server did not redirect the call after the caller spoke"
        stored = services(app).store.load(sid)
        assert stored is not None and stored.data["pending_speech"]["rejected"] is True
        url = _apply_redirect(call, rsps, 1)
        assert "speech=1" in url
        assert call.heard(NOT_UNDERSTOOD), call.transcript
        assert SILENCE not in str(call.transcript)
        assert call.heard("1번"), call.transcript  # asked again, with the keys this time
        assert not call.errors, call.errors
