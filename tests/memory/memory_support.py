"""Shared helpers of the caller-memory tests (imported by name, never as ``conftest``)."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE.parents[1], HERE.parent / "web", HERE.parent / "console", HERE.parent / "records", HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from databases import records_at  # noqa: E402, F401  (shared with the record tests)

from ivr.web.services import services  # noqa: E402

MEMORY_KEY = "test-memory-key-0123456789"


def settle(app) -> None:
    """Wait until the records of ended calls (and the callers' profiles) are written."""
    services(app).background.wait_idle()
