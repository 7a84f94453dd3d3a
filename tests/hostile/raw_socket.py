"""A bare websocket client for the hostile tests: it does what a hostile client does
(idle sockets, frames of any size sent bit by bit, anything before ``start``) and reads
the server's answer byte for byte, with no library tidying it up."""
from __future__ import annotations

import base64
import os
import socket
import struct
import time

__all__ = ["Refused", "open_socket", "send_text", "send_frame_slowly", "closed_within", "close_code"]


class Refused(Exception):
    """The server answered the upgrade with something other than 101."""

    def __init__(self, status: int, head: bytes) -> None:
        super().__init__(f"upgrade refused with {status}: {head[:200]!r}")
        self.status = status


def open_socket(port: int, path: str = "/twilio/media", source: str = "127.0.0.1",
                timeout: float = 5.0) -> socket.socket:
    """An accepted websocket to 127.0.0.1:``port`` from the loopback address ``source``."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    if status != 101:
        sock.close()
        raise Refused(status, head)
    return sock


def _header(length: int, opcode: int = 0x1) -> bytes:
    first = 0x80 | opcode
    if length < 126:
        return struct.pack("!BB", first, 0x80 | length)
    if length < 1 << 16:
        return struct.pack("!BBH", first, 0x80 | 126, length)
    return struct.pack("!BBQ", first, 0x80 | 127, length)


def send_text(sock: socket.socket, text: str) -> None:
    """One masked text frame (the mask is zero: the payload goes as it is)."""
    data = text.encode()
    sock.sendall(_header(len(data)) + b"\0\0\0\0" + data)


def send_frame_slowly(sock: socket.socket, length: int, chunk: int = 1 << 20) -> int:
    """Start one text frame of ``length`` bytes and send its payload until the server
    stops taking it; returns the bytes it took."""
    sock.sendall(_header(length) + b"\0\0\0\0")
    sent = 0
    block = b"a" * chunk
    try:
        while sent < length:
            sock.sendall(block[: min(chunk, length - sent)])
            sent += min(chunk, length - sent)
    except OSError:
        pass
    return sent


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server sent a close frame or closed the connection; None when
    it was still open after ``seconds``."""
    began = time.monotonic()
    sock.settimeout(0.1)
    while time.monotonic() - began < seconds:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - began
        if not data or data[0] == 0x88:
            return time.monotonic() - began
    return None


def close_code(sock: socket.socket, seconds: float) -> int | None:
    """The code of the close frame the server sends within ``seconds`` (None: none came)."""
    began = time.monotonic()
    sock.settimeout(0.1)
    data = b""
    while time.monotonic() - began < seconds:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        at = data.find(b"\x88")
        if at >= 0 and len(data) >= at + 4:
            return int.from_bytes(data[at + 2:at + 4], "big")
    return None
