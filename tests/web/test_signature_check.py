"""The line's signature check answers exactly what twilio's RequestValidator answers.

Requests are generated (http/https, with and without a port, query strings with and
without ``bodySHA256``, forms with repeated names and values, JSON bodies) and signed
with the twilio SDK's own ``compute_signature`` on every form of the URL Twilio might
have signed, with another token, or not at all; both checks must agree on every one.
"""
from __future__ import annotations

import hashlib
from urllib.parse import urlencode, urlparse

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from twilio.request_validator import HMAC_SHA1, HMAC_SHA256, RequestValidator, add_port, remove_port
from werkzeug.datastructures import MultiDict

from ivr.web.signatures import SignatureCheck

TOKEN = "12345678901234567890123456789012"
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
names = st.sampled_from(["CallSid", "Digits", "From", "To", "SpeechResult", "AccountSid", "a", "Z", "é", ""])


@st.composite
def urls(draw) -> str:
    scheme = draw(st.sampled_from(["https", "http"]))
    host = draw(st.sampled_from(["ivr.example.com", "127.0.0.1", "user:pw@line.example.org"]))
    port = draw(st.sampled_from(["", ":443", ":80", ":8080"]))
    path = draw(st.sampled_from(["/twilio/voice", "/twilio/step", "/", "/twilio/whisper/answer"]))
    query = draw(st.lists(st.tuples(st.sampled_from(["seq", "node", "call", "attempt", "bodySHA256"]), text),
                          max_size=3))
    return f"{scheme}://{host}{port}{path}" + (f"?{urlencode(query)}" if query else "")


forms = st.one_of(
    st.dictionaries(names, text, max_size=6),
    st.lists(st.tuples(names, text), max_size=8).map(MultiDict),
)


@st.composite
def requests(draw) -> tuple[str, object, str, str | None]:
    url = draw(urls())
    algorithm = draw(st.sampled_from([None, HMAC_SHA1, HMAC_SHA256, "hmac_sha256", "HMAC_MD5"]))
    body = draw(st.one_of(forms, st.text(max_size=40)))
    if isinstance(body, str):  # a JSON webhook: the body's hash in the URL, the URL alone signed
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        good = draw(st.booleans())
        url += ("&" if "?" in url else "?") + urlencode({"bodySHA256": digest if good else digest[::-1]})
    parsed = urlparse(url)
    signed_url = draw(st.sampled_from([url, remove_port(parsed), add_port(parsed), url + "x"]))
    token = draw(st.sampled_from([TOKEN, "another-token-entirely-0123456789"]))
    how = draw(st.sampled_from(["sdk", "sdk-sha256", "garbage", "empty"]))
    if how.startswith("sdk"):
        params = {} if isinstance(body, str) else body
        signature = RequestValidator(token).compute_signature(
            signed_url, params, HMAC_SHA256 if how == "sdk-sha256" else algorithm if algorithm != "HMAC_MD5" else None)
    else:
        signature = draw(st.text(max_size=30)) if how == "garbage" else ""
    return url, body, signature, algorithm


def sdk_answer(url: str, params: object, signature: str, algorithm: str | None) -> bool | None:
    """twilio's answer, or None where it raises on malformed input."""
    try:
        return RequestValidator(TOKEN).validate(url, params, signature, algorithm)
    except (TypeError, ValueError):
        return None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
@example(("https://ivr.example.com/twilio/voice", {}, "", None))
@example(("https://ivr.example.com:8080/twilio/step?seq=1", MultiDict([("Digits", "1"), ("Digits", "1")]), "x",
          None))
def test_same_answer_as_the_sdk(request):
    url, params, signature, algorithm = request
    expected = sdk_answer(url, params, signature, algorithm)
    answer = SignatureCheck(TOKEN).validate(url, params, signature, algorithm)
    if expected is None:
        assert answer is False  # the SDK raises on this input; the line refuses it
    else:
        assert answer is expected, (url, params, signature, algorithm)


@given(urls(), forms)
@settings(max_examples=200, deadline=None)
def test_every_form_of_the_url_twilio_signs_is_accepted(url, params):
    parsed = urlparse(url)
    check = SignatureCheck(TOKEN)
    for signed in (remove_port(parsed), add_port(parsed)):
        signature = RequestValidator(TOKEN).compute_signature(signed, params)
        assert check.validate(url, params, signature)
        assert check.compute_signature(signed, params) == signature
        assert not check.validate(url, params, RequestValidator("not-" + TOKEN).compute_signature(signed, params))


@pytest.mark.parametrize("url", ["https://ivr.example.com:port/twilio/voice", "https://ivr.example.com:99999/x"])
def test_a_url_whose_port_is_not_a_number_is_refused_not_raised(url):
    assert SignatureCheck(TOKEN).validate(url, {"CallSid": "CA1"}, "c2lnbmF0dXJl") is False


def test_a_text_body_without_its_hash_in_the_url_is_refused():
    signature = RequestValidator(TOKEN).compute_signature("https://ivr.example.com/twilio/voice", {})
    assert SignatureCheck(TOKEN).validate("https://ivr.example.com/twilio/voice", '{"a": 1}', signature) is False
    # an empty text body is an empty form, as for the SDK
    assert SignatureCheck(TOKEN).validate("https://ivr.example.com/twilio/voice", "", signature) is True
