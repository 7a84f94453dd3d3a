"""HTTP lookups against back ends that are slow, huge or wrong: a real HTTP server on
127.0.0.1, the real ``requests`` stack. Whatever the back end does, the lookup ends by
the node's deadline with an outcome the flow can route, and holds at most the size cap."""
from __future__ import annotations

import gzip
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ivr.model.actions import DataLookup
from ivr.runtime.lookups import MAX_BYTES, http_lookup


class Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sent: dict[str, int] = {}

    def log_message(self, *args: object) -> None:
        pass

    def _json(self, body: bytes, status: int = 200, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        path = self.path
        try:
            if path == "/orders/123456":
                self._json(json.dumps({"status": "shipped"}).encode())
            elif path == "/drip":  # one byte every 0.2 s, 60 bytes promised
                self.send_response(200)
                self.send_header("Content-Length", "60")
                self.end_headers()
                for _ in range(60):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    Backend.sent["drip"] = Backend.sent.get("drip", 0) + 1
                    time.sleep(0.2)
            elif path == "/drip-chunked":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for _ in range(60):
                    self.wfile.write(b"1\r\n \r\n")
                    self.wfile.flush()
                    Backend.sent["drip-chunked"] = Backend.sent.get("drip-chunked", 0) + 1
                    time.sleep(0.2)
            elif path == "/huge":  # 20 MB of JSON-looking padding, no length announced
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                piece = b" " * 65536
                for _ in range(320):
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            elif path == "/bomb":
                self._json(BOMB, Content_Encoding="gzip")
            elif path == "/zipped":
                self._json(gzip.compress(json.dumps({"status": "zipped"}).encode()), Content_Encoding="gzip")
            elif path == "/moved":
                self._json(b"", 302, Location="/orders/123456")
            elif path == "/slow-headers":
                time.sleep(4)
                self._json(b"{}")
            elif path == "/list":
                self._json(b"[1, 2]")
            else:
                self._json(b"", 404)
        except OSError:
            pass  # the lookup hung up on us: that is the point of several tests


BOMB = gzip.compress(b" " * (64 * 1024 * 1024), 9)  # 64 MB of spaces in about 64 kB


@pytest.fixture(scope="module")
def backend() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def lookup(url: str, timeout: float = 1.0):
    return http_lookup(DataLookup(node="order_lookup", url=url, timeout=timeout))


def test_a_json_object_is_found(backend):
    result = lookup(f"{backend}/orders/123456")
    assert (result.outcome, result.data) == ("found", {"status": "shipped"})


def test_404_is_not_found(backend):
    assert lookup(f"{backend}/orders/999999").outcome == "not_found"


@pytest.mark.parametrize("path", ["/drip", "/drip-chunked"])
def test_a_back_end_that_drips_is_cut_off_at_the_deadline(backend, path):
    """The node's timeout covers the whole answer, not each byte of it."""
    result = lookup(f"{backend}{path}", timeout=1.0)
    assert result.outcome == "error"
    assert result.detail == "no full answer within 1s"
    time.sleep(0.5)
    assert Backend.sent[path.strip("/")] < 20  # 60 bytes were promised; we stopped listening early


def test_slow_headers_are_cut_off_at_the_deadline(backend):
    result = lookup(f"{backend}/slow-headers", timeout=1.0)
    assert (result.outcome, result.detail) == ("error", "no answer within 1s")


def test_a_huge_answer_is_refused_at_the_size_cap(backend):
    result = lookup(f"{backend}/huge")
    assert (result.outcome, result.detail) == ("error", f"the answer is larger than {MAX_BYTES // 1024} kB")


def test_a_gzip_bomb_is_refused_without_inflating_it(backend):
    result = lookup(f"{backend}/bomb", timeout=5.0)
    assert (result.outcome, result.detail) == ("error", f"the answer is larger than {MAX_BYTES // 1024} kB")


def test_a_compressed_answer_is_read(backend):
    result = lookup(f"{backend}/zipped")
    assert (result.outcome, result.data) == ("found", {"status": "zipped"})


def test_the_size_cap_is_settable(backend):
    result = http_lookup(DataLookup(node="n", url=f"{backend}/orders/123456", timeout=1.0), max_bytes=10)
    assert (result.outcome, result.detail) == ("error", "the answer is larger than 0 kB")


def test_redirects_are_not_followed(backend):
    result = lookup(f"{backend}/moved")
    assert result.outcome == "error"
    assert "redirects are not followed" in result.detail


def test_an_answer_that_is_not_an_object_is_an_error(backend):
    result = lookup(f"{backend}/list")
    assert (result.outcome, result.detail) == ("error", "the answer is not a JSON object")


def test_a_refused_connection_is_retried_once_then_an_error():
    result = lookup("http://127.0.0.1:9/orders/1")
    assert result.outcome == "error" and result.detail.startswith("cannot connect")


def test_debug_logs_of_the_http_client_do_not_show_the_path(backend, caplog):
    """A PIN in a lookup URL's path must not reach a DEBUG log of urllib3."""
    from ivr import logs

    logs.install()
    with caplog.at_level(logging.DEBUG, logger="urllib3"):
        lookup(f"{backend}/accounts/12345678/pin/4321")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /" in text  # the request is logged ...
    assert "4321" not in text and "12345678" not in text  # ... without what the caller keyed


def test_our_own_access_log_keeps_its_paths():
    """Only the HTTP client's request lines are masked; a server's access log still says
    which webhook was called."""
    from ivr import logs

    pii = logs.install()
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '127.0.0.1 - - "POST /twilio/step?seq=2 HTTP/1.1" 200 -', None, None)
    pii.filter(record)
    assert "POST /twilio/step?seq=2 HTTP/1.1" in record.getMessage()
