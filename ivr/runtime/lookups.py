"""Data lookups over HTTP: the shell's side of a ``DataLookup`` action.

A customer's back end answers with a JSON object (found), 404 (not found), or anything
else (an error the flow routes, by default to a person, saying why).

Rules of this file:
* One deadline per lookup: the node's ``timeout`` covers connecting, the headers and the
  whole body, retries included. A back end that drips one byte a second is cut off at
  the deadline, not after the last byte, so the caller's webhook answers in time.
* One retry, on a connection error only, and only while the deadline allows.
* The answer is read in pieces up to ``max_bytes`` (default 256 kB), decompressed here
  with the same cap, so a huge answer or a gzip bomb costs at most the cap in memory.
* Redirects are not followed: a flow names the final URL of its back end.
"""
from __future__ import annotations

import contextlib
import json
import logging
import time
import zlib
from datetime import UTC, datetime

import requests
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import ReadTimeoutError

from ivr.model.actions import DataLookup
from ivr.model.events import LookupResult

__all__ = ["MAX_BYTES", "LookupTooLarge", "http_lookup"]

log = logging.getLogger(__name__)
_session = requests.Session()
MAX_BYTES = 256 * 1024
_PIECE = 16 * 1024


class LookupTooLarge(Exception):
    """The back end's answer is larger than the lookup allows."""


class _Late(Exception):
    """The deadline passed while the answer was still arriving."""


def http_lookup(action: DataLookup, at: datetime | None = None, *, max_bytes: int = MAX_BYTES) -> LookupResult:
    """Ask the back end; never take longer than ``action.timeout`` seconds in all."""
    at = at or datetime.now(UTC)
    deadline = time.monotonic() + action.timeout
    for attempt in (1, 2):
        left = deadline - time.monotonic()
        if left <= 0:
            return _error(action, at, f"no answer within {action.timeout:g}s")
        try:
            response = _session.request(action.method, action.url, timeout=(left, left), stream=True,
                                        allow_redirects=False,
                                        headers={"Accept": "application/json", "Accept-Encoding": "gzip, deflate",
                                                 **action.headers})
        except requests.ConnectionError as exc:
            if attempt == 1:
                continue
            return _error(action, at, f"cannot connect: {type(exc).__name__}")
        except requests.Timeout:
            return _error(action, at, f"no answer within {action.timeout:g}s")
        except requests.RequestException as exc:
            return _error(action, at, f"request failed: {type(exc).__name__}")
        with response:
            return _answer(action, at, response, deadline, max_bytes)
    return _error(action, at, "cannot connect")  # pragma: no cover - the loop always returns


def _answer(action: DataLookup, at: datetime, response: requests.Response, deadline: float,
            max_bytes: int) -> LookupResult:
    status = response.status_code
    if 300 <= status < 400:
        return _error(action, at, f"HTTP {status}: the back end redirected, and redirects are not followed")
    if status == 404:
        return LookupResult(at, "not_found")
    if status != 200:
        return _error(action, at, f"HTTP {status}")
    try:
        body = _read(response, deadline, max_bytes)
    except LookupTooLarge:
        return _error(action, at, f"the answer is larger than {max_bytes // 1024} kB")
    except (_Late, requests.Timeout, ReadTimeoutError, TimeoutError):
        return _error(action, at, f"no full answer within {action.timeout:g}s")
    except (requests.RequestException, TransportError, OSError, zlib.error) as exc:
        return _error(action, at, f"the answer could not be read: {type(exc).__name__}")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(action, at, "the answer is not JSON")
    if not isinstance(data, dict):
        return _error(action, at, "the answer is not a JSON object")
    return LookupResult(at, "found", data)


def _read(response: requests.Response, deadline: float, max_bytes: int) -> bytes:
    """The body, decompressed, at most ``max_bytes``, finished before ``deadline``."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes and not response.headers.get("Content-Encoding"):
        raise LookupTooLarge
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    inflate = zlib.decompressobj(47) if encoding in ("gzip", "deflate", "x-gzip") else None  # 47: gzip or zlib
    raw = response.raw
    out = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Late
        _wait_at_most(raw, left)
        piece = raw.read1(_PIECE, decode_content=False) if hasattr(raw, "read1") else raw.read(_PIECE, decode_content=False)
        if not piece:
            break
        if inflate is None:
            out += piece
        else:
            out += inflate.decompress(piece, max_bytes + 1 - len(out))
            while inflate.unconsumed_tail and len(out) <= max_bytes:
                out += inflate.decompress(inflate.unconsumed_tail, max_bytes + 1 - len(out))
        if len(out) > max_bytes:
            raise LookupTooLarge
    return bytes(out)


def _wait_at_most(raw: object, seconds: float) -> None:
    """Let the next read of the socket wait no longer than what is left of the deadline."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(max(seconds, 0.01))


def _error(action: DataLookup, at: datetime, detail: str) -> LookupResult:
    log.warning("lookup for node %s failed: %s", action.node, detail)
    return LookupResult(at, "error", detail=detail)
