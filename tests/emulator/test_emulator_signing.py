"""The emulator's request signing, checked against twilio-python's RequestValidator."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from ivr.testing import Forgery, compute_signature, sign_request
from ivr.testing.signing import SIGNATURE_HEADER, url_as_signed

TOKEN = "12345"


def test_known_answer_from_twilio_docs():
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert compute_signature(TOKEN, url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_https_drops_port_and_credentials_http_keeps_port():
    assert url_as_signed("https://u:p@ivr.example.com:8443/a?b=1") == "https://ivr.example.com/a?b=1"
    assert url_as_signed("http://127.0.0.1:8000/a") == "http://127.0.0.1:8000/a"
    assert url_as_signed("https://ivr.example.com/a") == "https://ivr.example.com/a"


def test_get_puts_params_in_query_and_signs_only_the_url():
    signed = sign_request("get", "https://ivr.example.com/a?x=%2B1", {"Digits": "1#"}, TOKEN)
    assert signed.method == "GET" and signed.form is None
    assert signed.url == "https://ivr.example.com/a?x=%2B1&Digits=1%23"
    assert dict(parse_qsl(urlsplit(signed.url).query)) == {"x": "+1", "Digits": "1#"}
    assert RequestValidator(TOKEN).validate(signed.url, {}, signed.headers[SIGNATURE_HEADER])


def test_forgeries():
    url, params = "https://ivr.example.com/a", {"Digits": "1"}
    validator = RequestValidator(TOKEN)
    assert sign_request("POST", url, params, TOKEN, Forgery(signature="")).headers == {}
    assert sign_request("POST", url, params, TOKEN, Forgery(signature="x")).headers == {
        SIGNATURE_HEADER: "x"}
    for forgery in (Forgery(token="other"), Forgery(url="https://evil.example.com/a")):
        signed = sign_request("POST", url, params, TOKEN, forgery)
        assert not validator.validate(url, signed.form, signed.headers[SIGNATURE_HEADER])
    assert not Forgery() and Forgery(token="t")


param_names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                      min_size=1, max_size=12)
param_values = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@given(params=st.dictionaries(param_names, param_values, max_size=8),
       path=st.sampled_from(["/twilio/voice", "/a/b?x=1&y=%20z", "/menu?step=%C3%A9"]))
def test_any_post_validates_with_twilio_validator(params, path):
    url = "https://ivr.example.com" + path
    signed = sign_request("POST", url, params, TOKEN)
    signature = signed.headers[SIGNATURE_HEADER]
    assert RequestValidator(TOKEN).validate(url, signed.form, signature)
    assert not RequestValidator("other-token").validate(url, signed.form, signature)
