"""Checking ``X-Twilio-Signature``: twilio's rules, one HMAC for a genuine request.

``SignatureCheck(token).validate(url, params, signature)`` answers exactly what
``twilio.request_validator.RequestValidator(token).validate`` answers (tests/web compare
the two on generated requests, with signatures made by the twilio SDK's own helpers):

* the signed string is the URL followed by the POST parameters sorted by name, each
  name followed by each of its distinct values, sorted (``compute_signature``);
* the URL may have been signed with or without its port (Twilio drops the port of an
  https URL, keeps it for http; the SDK accepts either, and so does this);
* a URL carrying ``bodySHA256`` with a text body (JSON webhooks) is valid when the
  body's SHA-256 matches and the URL alone is signed;
* ``algorithm`` is ``HMAC_SHA1`` (the Auth Token's signature, the default) or
  ``HMAC_SHA256`` (a SharedKey); any other is refused.

What differs is the cost, not the answer: the SDK computes both HMACs (with and without
the port) for every request; here the parameters are joined once, the URL as Twilio
signs it is tried first and the other form only when that fails, the HMAC is the
one-shot ``hmac.digest`` and the comparison ``hmac.compare_digest``. Where the SDK
raises on malformed input (a port that is not a number in the URL, a text body
without ``bodySHA256``), this refuses the request instead.
"""
from __future__ import annotations

import base64
import hmac
import logging
from collections.abc import Iterable, Mapping
from functools import lru_cache
from hashlib import sha256
from typing import Any
from urllib.parse import parse_qs, urlparse

from twilio.request_validator import HMAC_SHA1, HMAC_SHA256, add_port, remove_port
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

__all__ = ["SignatureCheck"]

log = logging.getLogger(__name__)
_DIGESTS = {HMAC_SHA1: "sha1", HMAC_SHA256: "sha256"}
_FORMS = (ImmutableMultiDict, MultiDict)  # werkzeug's: ``lists()`` is ``getlist`` of every name


@lru_cache(maxsize=1024)
def _url_forms(url: str) -> tuple[str, str, str | None]:
    """(the URL without its port, with its port, its ``bodySHA256`` or None).

    Raises ValueError for a URL whose port is not a number."""
    parsed = urlparse(url)
    body_hash = parse_qs(parsed.query).get("bodySHA256")
    return remove_port(parsed), add_port(parsed), body_hash[0] if body_hash else None


def _values(params: Any, name: str) -> Iterable[str]:
    for method in ("getall", "getlist"):  # a MultiDict (Flask's form), Django's QueryDict
        getter = getattr(params, method, None)
        if getter is not None:
            return getter(name)
    return [params[name]]


class SignatureCheck:
    """``validate`` and ``compute_signature`` with the SDK's ``RequestValidator``'s meaning."""

    def __init__(self, token: str) -> None:
        self.token = token.encode("utf-8")

    def compute_signature(self, url: str, params: Mapping[str, Any] | None, algorithm: str | None = None) -> str:
        """The signature Twilio sends for ``params`` posted to ``url`` (signed as given)."""
        digest = _DIGESTS.get((algorithm or HMAC_SHA1).upper())
        if digest is None:
            raise ValueError(f"Unsupported webhook signature algorithm: {algorithm}")
        return self._sign(url, self._joined(params), digest).decode("ascii")

    def validate(self, url: str, params: Any, signature: str, algorithm: str | None = None) -> bool:
        """Whether ``signature`` is Twilio's for ``params`` (a form, or a JSON body as
        text with ``bodySHA256`` in the URL) posted to ``url``."""
        digest = _DIGESTS.get((algorithm or HMAC_SHA1).upper())
        if digest is None:
            log.warning("unsupported webhook signature algorithm %r: refused (supported: %s, %s)",
                        algorithm, HMAC_SHA1, HMAC_SHA256)
            return False
        try:
            without_port, with_port, body_hash = _url_forms(url)
        except ValueError:  # a port that is not a number: nothing Twilio signed
            return False
        if isinstance(params, str):
            if body_hash is not None:
                if not _same(sha256(params.encode("utf-8")).hexdigest(), body_hash):
                    return False
            elif params:
                return False  # a text body is signed through bodySHA256 only
            params = None
        given = signature.encode("utf-8", "replace")
        joined = self._joined(params)
        if hmac.compare_digest(self._sign(without_port, joined, digest), given):
            return True
        return with_port != without_port and hmac.compare_digest(self._sign(with_port, joined, digest), given)

    def _joined(self, params: Any) -> bytes:
        if not params:
            return b""
        if type(params) in _FORMS:  # Flask's form: every name with its values in one pass
            pairs = sorted(params.lists())
        else:
            pairs = [(name, _values(params, name)) for name in sorted(set(params))]
        return "".join(name + value for name, values in pairs for value in sorted(set(values))).encode("utf-8")

    def _sign(self, url: str, joined: bytes, digest: str) -> bytes:
        return base64.b64encode(hmac.digest(self.token, url.encode("utf-8") + joined, digest))


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))
