"""Signing requests exactly as Twilio does, and forging them on purpose.

Rules of this file (from Twilio's security docs, see /work/shared/TWILIO.md section 2):

* The signed string is the full URL Twilio requested, query string included, followed by
  the POST parameters sorted by name, each as ``name + value`` (decoded values).
* For a GET request the parameters travel in the query string, so only the URL is signed.
* Over HTTPS Twilio drops ``user:pass@`` and the port from the URL before signing; over
  HTTP it keeps the port.

The HMAC itself is twilio-python's ``RequestValidator.compute_signature``, so the
emulator and the app agree by construction on everything except the URL and parameters,
which are what this module gets right.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


@dataclass(frozen=True)
class Forgery:
    """How to sign a request wrongly, so tests can check that the app answers 403.

    * ``signature``: send this header value verbatim (``""`` sends no header at all);
    * ``token``: sign with this auth token instead of the real one;
    * ``url``: sign this URL instead of the one requested.

    The default ``Forgery()`` forges nothing.
    """

    signature: str | None = None
    token: str | None = None
    url: str | None = None

    def __bool__(self) -> bool:
        return any(value is not None for value in (self.signature, self.token, self.url))


def url_as_signed(url: str) -> str:
    """The URL as Twilio signs it: for https, without credentials and port."""
    parts = urlsplit(url)
    if parts.scheme != "https" or (parts.port is None and "@" not in parts.netloc):
        return url
    return urlunsplit(parts._replace(netloc=parts.hostname or ""))


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended to its query string (how Twilio sends a GET)."""
    if not params:
        return url
    return url + ("&" if urlsplit(url).query else "?") + urlencode(list(params.items()))


def compute_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The ``X-Twilio-Signature`` Twilio sends for a POST of ``params`` to ``url``."""
    return RequestValidator(auth_token).compute_signature(url_as_signed(url), dict(params))


@dataclass(frozen=True)
class SignedRequest:
    """A request ready for a transport: final URL, form body (None for GET), headers."""

    method: str
    url: str
    form: dict[str, str] | None
    headers: dict[str, str]


def sign_request(
    method: str,
    url: str,
    params: Mapping[str, str],
    auth_token: str,
    forgery: Forgery = Forgery(),
) -> SignedRequest:
    """Build the request Twilio would send: ``params`` as a form body for POST or in the
    query string for GET, with its signature (or the forged one)."""
    method = method.upper()
    params = {name: str(value) for name, value in params.items()}
    if method == "GET":
        url, form, signed_params = with_query(url, params), None, {}
    else:
        form, signed_params = params, params
    if forgery.signature is not None:
        signature = forgery.signature
    else:
        signature = compute_signature(
            forgery.token or auth_token, forgery.url or url, signed_params
        )
    headers = {SIGNATURE_HEADER: signature} if signature else {}
    return SignedRequest(method=method, url=url, form=form, headers=headers)
