"""Telephone audio: G.711 mu-law to 16-bit PCM, 8 -> 16 kHz upsampling, loudness.

This runs on every 20 ms frame of every call, so it avoids per-sample Python where it
can and needs neither numpy nor ``audioop`` (removed in Python 3.13).

Rules of this file:

* PCM is signed 16-bit little-endian mono, as ``bytes`` (what Vosk's ``AcceptWaveform``
  takes).
* mu-law decoding is two ``bytes.translate`` calls, one per output byte: every mu-law
  byte maps to the low byte and the high byte of its 16-bit sample, and the two
  translated strings are interleaved by slice assignment. Both steps run in C.
* The decoded values are those of the ITU-T G.711 reference decoder (the same as the
  former ``audioop.ulaw2lin(data, 2)``): range -32124..32124.
"""
from __future__ import annotations

import math
import sys
from array import array
from operator import mul

__all__ = [
    "ULAW_TO_PCM16",
    "SILENCE_ULAW",
    "ulaw_to_pcm16",
    "pcm16_to_ulaw",
    "Upsampler",
    "rms_dbfs",
    "SILENCE_DBFS",
]

#: The mu-law byte of a zero sample (what a silent phone line carries).
SILENCE_ULAW = 0xFF
#: What ``rms_dbfs`` returns for digital silence or empty audio.
SILENCE_DBFS = -120.0

_BIAS = 0x84  # 132: the G.711 bias, in 16-bit units (33 * 4)


def _decode(byte: int) -> int:
    """G.711 mu-law byte -> 16-bit linear sample (reference decoder)."""
    u = ~byte & 0xFF
    magnitude = (((u & 0x0F) << 3) + _BIAS) << ((u & 0x70) >> 4)
    return _BIAS - magnitude if u & 0x80 else magnitude - _BIAS


#: The 256-entry decoding table: ``ULAW_TO_PCM16[mu_law_byte] -> int sample``.
ULAW_TO_PCM16: tuple[int, ...] = tuple(_decode(b) for b in range(256))

_LOW = bytes(s & 0xFF for s in ULAW_TO_PCM16)
_HIGH = bytes((s >> 8) & 0xFF for s in ULAW_TO_PCM16)


def ulaw_to_pcm16(ulaw: bytes) -> bytes:
    """Decode raw 8-bit mu-law to 16-bit little-endian PCM (twice as many bytes)."""
    out = bytearray(2 * len(ulaw))
    out[0::2] = ulaw.translate(_LOW)
    out[1::2] = ulaw.translate(_HIGH)
    return bytes(out)


def _encode(sample: int) -> int:
    """16-bit linear sample -> G.711 mu-law byte.

    The classic Sun/CCITT ``linear2ulaw`` (the one CPython's ``audioop.lin2ulaw`` used):
    it works on 14-bit magnitudes, so it rounds negative samples towards -inf.
    """
    x = sample >> 2
    mask = 0x7F if x < 0 else 0xFF
    x = min(-x if x < 0 else x, 8159) + 33
    segment = max(x.bit_length() - 6, 0)  # 0x21..0x3F -> 0, ..., 0x1000..0x1FFF -> 7
    if segment > 7:  # clipped: the largest magnitude
        return 0x7F ^ mask
    return ((segment << 4) | ((x >> (segment + 1)) & 0x0F)) ^ mask


def pcm16_to_ulaw(pcm: bytes) -> bytes:
    """Encode 16-bit little-endian PCM to mu-law. Not on the hot path (tests, bench)."""
    samples = _samples(pcm)
    return bytes(_encode(s) for s in samples)


def _samples(pcm: bytes) -> array:
    if len(pcm) % 2:
        raise ValueError(f"16-bit PCM must have an even number of bytes, got {len(pcm)}")
    samples = array("h")
    samples.frombytes(pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


class Upsampler:
    """8 kHz -> 16 kHz PCM by linear interpolation, continuous across frames.

    Each input sample ``s[i]`` becomes ``(mid(s[i-1], s[i]), s[i])``; the sample before the
    first one of a frame is the last one of the previous frame, so frame edges do not
    click. This delays the signal by half an 8 kHz sample (62.5 us), which is harmless.
    """

    def __init__(self) -> None:
        self._last = 0

    def feed(self, pcm8k: bytes) -> bytes:
        samples = _samples(pcm8k)
        if not samples:
            return b""
        previous = array("h", [self._last])
        previous.extend(samples[:-1])
        out = array("h", bytes(4 * len(samples)))
        out[1::2] = samples
        out[0::2] = array("h", [(a + b) >> 1 for a, b in zip(previous, samples)])
        self._last = samples[-1]
        if sys.byteorder == "big":
            out.byteswap()
        return out.tobytes()


def rms_dbfs(pcm: bytes) -> float:
    """RMS level of 16-bit PCM in dB relative to full scale (a full-scale square wave is 0).

    Empty or all-zero audio gives ``SILENCE_DBFS`` (-120), never ``-inf``.
    """
    samples = _samples(pcm)
    if not samples:
        return SILENCE_DBFS
    energy = sum(map(mul, samples, samples))
    if energy == 0:
        return SILENCE_DBFS
    rms = math.sqrt(energy / len(samples))
    return max(20.0 * math.log10(rms / 32768.0), SILENCE_DBFS)
