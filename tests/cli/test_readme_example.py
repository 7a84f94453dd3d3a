"""The example flow in README.md (under "## Call flows") is what a newcomer copies first:
it must pass ``ivr validate`` as written, with no environment of its own."""
from __future__ import annotations

import os
import re

from cli_run import REPO, run_ivr


def readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Call flows\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```yaml\n(.*?)^```$", section, re.S | re.M)
    assert blocks, "README.md has no yaml block under '## Call flows'"
    return str(blocks[0])


def test_the_readme_example_flow_validates_clean(tmp_path):
    path = tmp_path / "example.yaml"
    path.write_text(readme_example(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "ORDER_API"}
    done = run_ivr("validate", str(path), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("1 flow ok, 0 errors, 0 warnings"), done.stdout
