"""The loader's bounds: a file's size is checked before it is read, a limit set by the
caller reaches the YAML reader, and the garbage collector rests for the whole load."""
from __future__ import annotations

import gc
import os
import time
import tracemalloc

import pytest
from conftest import GOOD

from ivr.flows import loader
from ivr.flows.loader import load_paths, load_text, read_flow_file
from ivr.flows.yamlpos import Limits

ALIASES = """\
flow: aliases
operator: {to: desk}
start: main
nodes:
  main:
    say: "Hello."
    go: desk
  desk:
    transfer:
      to: &people [queue:support]
      fallback: desk2
  desk2:
    transfer: {to: *people, fallback: desk3}
  desk3:
    transfer: {to: *people}
"""


def test_a_multi_gigabyte_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as fh:
        fh.truncate(3 * 1024 ** 3)  # sparse: 3 GiB on paper, nothing on disk
    tracemalloc.start()
    started = time.perf_counter()
    loaded = load_paths([path])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.perf_counter() - started < 5
    assert peak < 16 * 1024 * 1024
    [problem] = loaded.problems
    assert (problem.where.line, problem.where.col) == (1, 1)
    assert "3,221,225,472 bytes" in problem.message and "at most" in problem.message


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_file_that_claims_to_be_small_is_read_only_to_the_limit_and_one_byte():
    from pathlib import Path
    text, problem = read_flow_file(Path("/dev/zero"), Limits(max_bytes=1000))  # says 0 bytes, never ends
    assert text is None and problem is not None
    assert "1,001 bytes" in problem.message and "at most 1,000 bytes" in problem.message


def test_limits_pass_through_load_paths_and_load_text(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text(ALIASES, encoding="utf-8")
    assert load_paths([path]).errors == []
    strict = Limits(max_aliases=1)
    [problem] = load_paths([path], limits=strict).errors
    assert "aliases" in problem.message and problem.where.line == 15
    assert load_text(ALIASES, "aliases.yaml", limits=strict)[0] is None
    small = Limits(max_bytes=100)
    [problem] = load_paths([path], limits=small).errors
    assert "at most 100 bytes" in problem.message


def test_a_file_that_is_not_utf8_is_pointed_at(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("flow: caf\u00e9\n".encode("latin-1"))
    [problem] = load_paths([path]).errors
    assert (problem.where.line, problem.where.col) == (1, 10)
    assert "not UTF-8" in problem.message


def test_windows_line_ends_read_as_before(tmp_path):
    text = (GOOD / "tricky_but_valid.yaml").read_text(encoding="utf-8")
    path = tmp_path / "crlf.yaml"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    loaded = load_paths([path])
    assert loaded.problems == []
    assert loaded.flows["tricky-but-valid"].version == load_text(text, "x.yaml")[0].version


def test_the_garbage_collector_rests_for_the_whole_load_and_wakes_after(monkeypatch):
    seen: list[bool] = []
    real = loader.check_flow

    def checking(flow, ctx):  # runs after the YAML is read: the pause must still hold
        seen.append(gc.isenabled())
        real(flow, ctx)

    monkeypatch.setattr(loader, "check_flow", checking)
    assert gc.isenabled()
    load_paths([GOOD / "tricky_but_valid.yaml"])
    assert seen == [False]
    assert gc.isenabled()
