"""Telephone audio: the mu-law table against the G.711 formula, the encoder, the 8 -> 16
kHz upsampler, and loudness. Properties are checked with hypothesis."""
from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.speech.audio import (
    SILENCE_DBFS,
    SILENCE_ULAW,
    ULAW_TO_PCM16,
    Upsampler,
    pcm16_to_ulaw,
    rms_dbfs,
    ulaw_to_pcm16,
)

samples16 = st.integers(min_value=-32768, max_value=32767)


def pcm(values) -> bytes:
    return struct.pack(f"<{len(values)}h", *values)


def unpcm(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 2}h", data))


def g711_reference(byte: int) -> int:
    """mu-law expansion written from the G.711 definition, independently of the table:
    complement the byte; sign, 3-bit exponent, 4-bit mantissa; the magnitude is
    ((2 * mantissa + 33) << exponent) - 33 in 14-bit units, times 4 for 16 bits."""
    u = byte ^ 0xFF
    sign = -1 if u & 0x80 else 1
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((2 * mantissa + 33) << exponent) - 33) * 4
    return sign * magnitude


# -- decoding -------------------------------------------------------------------------


@pytest.mark.parametrize("byte", range(256))
def test_table_matches_the_g711_formula(byte):
    assert ULAW_TO_PCM16[byte] == g711_reference(byte)


def test_table_landmarks():
    assert len(ULAW_TO_PCM16) == 256
    assert ULAW_TO_PCM16[SILENCE_ULAW] == 0 and ULAW_TO_PCM16[0x7F] == 0  # +0 and -0
    assert ULAW_TO_PCM16[0x00] == -32124 and ULAW_TO_PCM16[0x80] == 32124  # the extremes
    assert max(ULAW_TO_PCM16) == 32124 and min(ULAW_TO_PCM16) == -32124
    # bytes 0x80..0xFF are positive and shrink towards zero; 0x00..0x7F mirror them
    positives = ULAW_TO_PCM16[0x80:]
    assert all(a > b for a, b in zip(positives, positives[1:]))
    assert all(ULAW_TO_PCM16[b] == -ULAW_TO_PCM16[b | 0x80] for b in range(0x80))


def test_decoder_output_is_little_endian_16_bit_of_the_table():
    every_byte = bytes(range(256))
    assert unpcm(ulaw_to_pcm16(every_byte)) == list(ULAW_TO_PCM16)
    assert ulaw_to_pcm16(b"") == b""
    assert ulaw_to_pcm16(b"\x80") == struct.pack("<h", 32124)


@given(st.binary(max_size=400))
def test_decoding_is_per_byte(data):
    assert unpcm(ulaw_to_pcm16(data)) == [ULAW_TO_PCM16[b] for b in data]


# -- encoding -----------------------------------------------------------------------------


@pytest.mark.parametrize("byte", [b for b in range(256) if b != 0x7F])  # 0x7F is -0: encodes as +0
def test_encoding_a_decoded_value_gives_the_byte_back(byte):
    assert pcm16_to_ulaw(pcm([ULAW_TO_PCM16[byte]])) == bytes([byte])


@given(st.lists(samples16, max_size=200))
def test_decode_of_encode_is_close(values):
    """mu-law keeps about 4 significant bits: the error is at most half a step of the
    sample's segment (3% of its size) plus the coarse steps near zero."""
    back = unpcm(ulaw_to_pcm16(pcm16_to_ulaw(pcm(values))))
    for x, y in zip(values, back):
        assert abs(x - y) <= max(abs(x) * 0.0625, 32) + (644 if abs(x) > 32124 else 0), (x, y)
        assert y == 0 or (x >= 0) == (y > 0) or abs(x) <= 4  # the sign survives


@given(st.lists(samples16, min_size=2, max_size=50).map(sorted))
def test_encoding_is_monotonic(values):
    decoded = unpcm(ulaw_to_pcm16(pcm16_to_ulaw(pcm(values))))
    assert decoded == sorted(decoded)


def test_encoder_refuses_odd_length_pcm():
    with pytest.raises(ValueError, match="even number of bytes"):
        pcm16_to_ulaw(b"\x00\x01\x02")


# -- loudness -------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=4000))
def test_loudness_of_silence_is_the_floor(n):
    assert rms_dbfs(bytes(2 * n)) == SILENCE_DBFS
    assert rms_dbfs(ulaw_to_pcm16(bytes([SILENCE_ULAW]) * n)) == SILENCE_DBFS


def sine(amplitude: float, n: int = 800, freq: float = 440.0) -> list[int]:
    return [round(amplitude * math.sin(2 * math.pi * freq * i / 8000)) for i in range(n)]


def test_loudness_of_known_signals():
    assert rms_dbfs(pcm([32767, -32767] * 100)) == pytest.approx(0.0, abs=0.01)  # full-scale square
    assert rms_dbfs(pcm(sine(32767))) == pytest.approx(-3.01, abs=0.05)  # full-scale sine
    assert rms_dbfs(pcm(sine(3277))) == pytest.approx(-23.01, abs=0.05)


@given(st.floats(min_value=100, max_value=16000), st.floats(min_value=1.05, max_value=2.0))
@settings(max_examples=50)
def test_loudness_scales_with_amplitude(amplitude, factor):
    quiet, loud = rms_dbfs(pcm(sine(amplitude))), rms_dbfs(pcm(sine(amplitude * factor)))
    assert loud > quiet
    assert loud - quiet == pytest.approx(20 * math.log10(factor), abs=0.1)


@given(st.lists(samples16, min_size=1, max_size=300))
def test_loudness_is_bounded_and_sign_blind(values):
    level = rms_dbfs(pcm(values))
    assert SILENCE_DBFS <= level <= 0.01
    assert rms_dbfs(pcm([max(-v, -32768) if v != -32768 else 32767 for v in values])) == pytest.approx(level, abs=0.01)


# -- upsampling ---------------------------------------------------------------------------


def test_upsampler_interleaves_midpoints_and_carries_the_last_sample():
    up = Upsampler()
    assert unpcm(up.feed(pcm([100, 200, -100]))) == [50, 100, 150, 200, 50, -100]
    assert unpcm(up.feed(pcm([300]))) == [100, 300]  # mid(-100, 300): no click at the edge
    assert up.feed(b"") == b""


@given(st.lists(samples16, max_size=400), st.lists(st.integers(1, 200), max_size=10))
def test_upsampling_in_frames_equals_upsampling_at_once(values, cuts):
    whole = Upsampler().feed(pcm(values))
    up, pieces, i = Upsampler(), [], 0
    for size in cuts + [len(values)]:
        pieces.append(up.feed(pcm(values[i : i + size])))
        i += size
    assert b"".join(pieces) == whole
    assert len(whole) == 4 * len(values)
    assert unpcm(whole)[1::2] == values  # the original samples are kept
