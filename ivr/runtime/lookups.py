"""Data lookups over HTTP: the shell's side of a ``DataLookup`` action.

A customer's back end answers with a JSON object (found), 404 (not found), or anything
else (an error the flow routes, by default to a person). One retry on a connection error;
never more than the node's timeout per try, so a caller waits at most a few seconds.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import requests

from ivr.model.actions import DataLookup
from ivr.model.events import LookupResult

log = logging.getLogger(__name__)
_session = requests.Session()


def http_lookup(action: DataLookup, at: datetime | None = None) -> LookupResult:
    at = at or datetime.now(timezone.utc)
    for attempt in (1, 2):
        try:
            response = _session.request(action.method, action.url, timeout=action.timeout,
                                        headers={"Accept": "application/json", **action.headers})
        except requests.ConnectionError as exc:
            if attempt == 1:
                continue
            return _error(action, at, f"cannot connect: {type(exc).__name__}")
        except requests.Timeout:
            return _error(action, at, f"no answer within {action.timeout:g}s")
        except requests.RequestException as exc:
            return _error(action, at, f"request failed: {type(exc).__name__}")
        if response.status_code == 404:
            return LookupResult(at, "not_found")
        if response.status_code != 200:
            return _error(action, at, f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            return _error(action, at, "the answer is not JSON")
        if not isinstance(data, dict):
            return _error(action, at, "the answer is not a JSON object")
        return LookupResult(at, "found", data)
    return _error(action, at, "cannot connect")  # pragma: no cover - the loop always returns


def _error(action: DataLookup, at: datetime, detail: str) -> LookupResult:
    log.warning("lookup for node %s failed: %s", action.node, detail)
    return LookupResult(at, "error", detail=detail)
