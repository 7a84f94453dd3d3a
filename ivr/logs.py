"""Logs without secrets: a ``logging.Filter`` that masks what must never reach a log.

Masked in every log record's message (and its traceback text):

* card-like numbers: runs of 13-19 digits (spaces or dashes allowed between them) that
  pass the Luhn check -> ``[card]``;
* PIN-like values of known fields: ``Digits``, ``SpeechResult``, ``pin``, ``passcode``,
  ``cvv``, ``ssn``, ... and every slot a loaded flow marks ``secret: true`` (``pin=1234``,
  ``'pin': '1234'``, ``"Digits": "1234"``, ``digits='1234'``) -> ``***`` (``Digits`` of one
  to three keys, a menu choice, stay visible);
* the literal values of the deployment's secrets (auth token, admin token, secret key);
* the password of a URL (``redis://:pw@host`` -> ``redis://:***@host``);
* the path and query of the requests the HTTP client (urllib3) logs at DEBUG
  (``"GET /accounts/12345678/pin/4321 HTTP/1.1"`` -> ``"GET /*** HTTP/1.1"``): lookup
  URLs carry what the caller keyed, a PIN among it. Our own access log keeps its paths.

``install(secrets, slot_names)`` applies the filter to every record of the process: a
filter attached to the root logger sees only records logged on the root logger itself
(not those of ``ivr.web.hooks`` propagating up), so ``install`` also wraps the log record
factory, which every logger uses. It is idempotent; a second app adds its own secrets.

Rules of this file: masking happens once per record (``record._ivr_masked``); the message
is formatted with its args first and the args are dropped, so a handler never formats
the raw values again.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

FIELDS = {"digits", "speechresult", "unstablespeechresult", "pin", "pin_again", "passcode", "password",
          "cvv", "cvc", "ssn", "card", "card_number", "cardnumber", "security_code"}
_CARD = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")
_MENU_KEYS = re.compile(r"[\d*#]{1,3}")
_REQUEST_LINE = re.compile(r'"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /[^ "]* (HTTP/[\d.]+)"')
_SPEECH = re.compile(r"(?i)(?<![\w])((?:Unstable)?SpeechResult=)[^&\n]*")  # a form body: up to the next field


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else match.group(0)


class PiiFilter(logging.Filter):
    """Masks card numbers, PIN-like fields, secret slots and secrets in log records."""

    def __init__(self, secrets: Iterable[str] = (), slot_names: Iterable[str] = ()):
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._fields: set[str] = set(FIELDS)
        self._field_re = self._compile()
        self.add(secrets, slot_names)

    def add(self, secrets: Iterable[str] = (), slot_names: Iterable[str] = ()) -> None:
        """Also mask these literal secrets and the values of these fields (slot names)."""
        with self._lock:
            self._secrets |= {s for s in secrets if s and len(s) >= 4}
            before = len(self._fields)
            self._fields |= {n.lower() for n in slot_names if n}
            if len(self._fields) != before:
                self._field_re = self._compile()

    def _compile(self) -> re.Pattern:
        names = "|".join(sorted((re.escape(f) for f in self._fields), key=len, reverse=True))
        # name, then = or : with optional quotes/spaces around, then the value (quoted or bare)
        return re.compile(rf"(?i)(?<![\w])((?:{names})['\"]?\s*[=:]\s*)(?:(['\"])(.*?)\2|([^\s,;&)}}\]'\"]+))")

    def mask(self, text: str) -> str:
        if not text:
            return text
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        text = _URL_PASSWORD.sub(r"\1***@", text)
        text = _SPEECH.sub(r"\1***", text)
        text = self._field_re.sub(self._field, text)
        return _CARD.sub(_card, text)

    @staticmethod
    def _field(match: re.Match) -> str:
        head, quote = match.group(1), match.group(2) or ""
        value = match.group(3) if match.group(2) else match.group(4)
        if head.lower().startswith("digits") and _MENU_KEYS.fullmatch(value or ""):
            return match.group(0)  # a menu choice, not a PIN
        return f"{head}{quote}***{quote}"

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_ivr_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error report
            return True
        masked = self.mask(message)
        if record.name.startswith("urllib3"):  # the HTTP client's request lines carry lookup URLs
            masked = _REQUEST_LINE.sub(r'"\1 /*** \2"', masked)
        record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        record._ivr_masked = True
        return True


_installed: PiiFilter | None = None
_install_lock = threading.Lock()


def install(secrets: Iterable[str] = (), slot_names: Iterable[str] = ()) -> PiiFilter:
    """Mask every log record of this process from now on (see the module's doc)."""
    global _installed
    with _install_lock:
        if _installed is None:
            _installed = PiiFilter()
            previous = logging.getLogRecordFactory()
            pii = _installed

            def factory(*args, **kwargs):
                record = previous(*args, **kwargs)
                pii.filter(record)
                return record

            logging.setLogRecordFactory(factory)
        root = logging.getLogger()
        if _installed not in root.filters:
            root.addFilter(_installed)
        for handler in root.handlers:
            if _installed not in handler.filters:
                handler.addFilter(_installed)
        _installed.add(secrets, slot_names)
        return _installed


def installed() -> PiiFilter | None:
    return _installed
