"""How the emulator reaches the app: one small interface, two implementations.

The emulated Twilio always thinks in *public* URLs (``https://ivr.example.com/twilio/voice``),
because that is what Twilio requests and what it signs. A transport delivers such a request
to wherever the app really runs and hands back a :class:`Reply`:

* :class:`FlaskTransport` calls a WSGI app in-process through ``app.test_client()``; the
  request's ``base_url`` is the public origin, so ``request.url`` in the app equals the
  URL Twilio signed.
* :class:`HttpTransport` talks to a running server (``http://127.0.0.1:PORT``) with
  ``requests``; it adds ``X-Forwarded-Proto`` / ``X-Forwarded-Host`` like a TLS-terminating
  proxy would, so an app behind werkzeug's ``ProxyFix`` also sees the public URL.

Neither transport follows redirects: the caller decides what Twilio would do with a 3xx.
"""
from __future__ import annotations

import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

#: Twilio's read timeout for a webhook (the "15 s rule").
TWILIO_READ_TIMEOUT = 15.0


class TransportError(Exception):
    """The request never got an HTTP answer (connection refused, timeout, ...)."""


@dataclass(frozen=True)
class Reply:
    """One HTTP answer the app gave to the emulated Twilio.

    ``body`` is ``str`` for text and XML content types and ``bytes`` otherwise (audio).
    It unpacks like the tuple ``(url, status, content_type, body)``; ``location`` holds
    the ``Location`` header of a 3xx answer; ``exception`` the last line of the traceback
    when an in-process app raised (the reply is then a 500, as Twilio would see it).
    """

    url: str
    status: int
    content_type: str
    body: str | bytes
    location: str | None = None
    exception: str | None = None

    def __iter__(self) -> Iterator[object]:
        return iter((self.url, self.status, self.content_type, self.body))

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lower-cased (``text/xml``)."""
        return self.content_type.split(";", 1)[0].strip().lower()


class Transport(Protocol):
    """Delivers one request for a public URL to the app under test."""

    def request(
        self,
        method: str,
        url: str,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str],
    ) -> Reply:
        """Send ``method url`` (public URL, query string included) with ``form`` as an
        ``application/x-www-form-urlencoded`` body (``None`` for GET) and ``headers``."""
        ...


def _decode(content_type: str, raw: bytes) -> str | bytes:
    mimetype = content_type.split(";", 1)[0].strip().lower()
    if mimetype.startswith("text/") or mimetype.endswith(("/xml", "+xml", "/json")):
        return raw.decode("utf-8", errors="replace")
    return raw


class FlaskTransport:
    """Runs requests in-process against a Flask (or any WSGI) app's test client.

    An exception escaping the app (Flask propagates them when ``TESTING`` is on) becomes
    a 500 reply whose ``exception`` names it, so the call fails as it would on Twilio.
    Usage: ``FlaskTransport(create_app(test_config))``.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()

    def request(self, method, url, form, headers) -> Reply:
        """See :meth:`Transport.request`."""
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            response = self.client.open(
                path,
                base_url=f"{parts.scheme}://{parts.netloc}",
                method=method,
                data=dict(form) if form is not None else None,
                headers=dict(headers),
                follow_redirects=False,
            )
        except Exception:  # the app raised: Twilio would have got a 500
            trace = traceback.format_exc()
            return Reply(url, 500, "text/plain", trace,
                         exception=trace.strip().splitlines()[-1])
        content_type = response.headers.get("Content-Type", "")
        return Reply(
            url=url,
            status=response.status_code,
            content_type=content_type,
            body=_decode(content_type, response.get_data()),
            location=response.headers.get("Location"),
        )


class HttpTransport:
    """Sends requests over real HTTP to ``base_url`` (e.g. ``http://127.0.0.1:8000``).

    The public URL's path and query are appended to ``base_url``; its scheme and host go
    into ``X-Forwarded-Proto`` / ``X-Forwarded-Host``. ``timeout`` defaults to Twilio's
    15 s read timeout, so a slow webhook fails here as it would on a real call. If a test
    activates the ``responses`` mock, add a passthrough for ``base_url``.
    """

    def __init__(self, base_url: str, *, timeout: float = TWILIO_READ_TIMEOUT, session=None) -> None:
        import requests  # imported lazily: the in-process transport must not need it

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self._requests = requests

    def request(self, method, url, form, headers) -> Reply:
        """See :meth:`Transport.request`."""
        parts = urlsplit(url)
        target = self.base_url + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent_headers = {"X-Forwarded-Proto": parts.scheme, "X-Forwarded-Host": parts.netloc}
        sent_headers.update(headers)
        try:
            response = self.session.request(
                method,
                target,
                data=dict(form) if form is not None else None,
                headers=sent_headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except self._requests.RequestException as exc:
            raise TransportError(f"{method} {target} failed: {exc}") from exc
        content_type = response.headers.get("Content-Type", "")
        return Reply(
            url=url,
            status=response.status_code,
            content_type=content_type,
            body=_decode(content_type, response.content),
            location=response.headers.get("Location"),
        )

    def close(self) -> None:
        """Close the underlying ``requests`` session."""
        self.session.close()
