"""``ivr graph``: pictures through Graphviz, text without, a clear error without Graphviz."""
from __future__ import annotations

import os
import shutil
import sys

import pytest

from cli_run import REPO, run_ivr

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


@needs_dot
def test_png_and_svg_files_are_drawn(tmp_path):
    png, svg = tmp_path / "flow.png", tmp_path / "flow.svg"
    done = run_ivr("graph", "acme-support", "--png", str(png), "--svg", str(svg))
    assert done.returncode == 0, done.stderr
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "<svg" in svg.read_text(encoding="utf-8") and "to flow acme" in svg.read_text(encoding="utf-8")
    assert f"into {png}" in done.stderr
    assert done.stdout == ""


def test_without_a_picture_it_prints_mermaid_or_dot():
    done = run_ivr("graph", "acme-support")
    assert done.returncode == 0 and done.stdout.startswith("flowchart TD\n")
    done = run_ivr("graph", "acme-support", "--dot")
    assert done.returncode == 0 and "rankdir=TB;" in done.stdout


def test_without_graphviz_the_error_says_what_to_install(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # a PATH with no dot on it
    done = run_ivr("graph", "acme-support", "--png", str(tmp_path / "flow.png"), env=env)
    if done.returncode != 2 and not os.path.isabs(sys.executable):
        pytest.skip("the command could not be started without PATH")
    assert done.returncode == 2
    assert "Graphviz's 'dot' command is not installed" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "flow.png").exists()


def test_an_unknown_flow_is_named(tmp_path):
    done = run_ivr("graph", "acme-suport", "--png", str(tmp_path / "x.png"), cwd=REPO)
    assert done.returncode in (1, 2)
    assert "no valid flow 'acme-suport'" in done.stderr
