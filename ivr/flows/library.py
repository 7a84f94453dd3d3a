"""The flows a line serves, with every version a live call may still be pinned to.

``FlowLibrary.reload()`` reads the flows directory again: a file that validates replaces
its flow for new calls; a broken file is refused (its problems are returned for the log)
and the last good version keeps serving; a call keeps the version it started with
(``pinned``) until it ends.
"""
from __future__ import annotations

import threading
from pathlib import Path

from .loader import Loaded, load_directory
from .model import Flow
from .problems import Problem


class NoFlow(LookupError):
    """No flow serves this number, and no flow is marked ``default: true``."""


class FlowLibrary:
    def __init__(self, directory: str | Path, audio_dir: str | Path | None = None):
        self.directory = Path(directory)
        self.audio_dir = Path(audio_dir) if audio_dir else None
        self._lock = threading.Lock()
        self._current: dict[str, Flow] = {}
        self._versions: dict[tuple[str, str], Flow] = {}
        self._files: dict[str, str] = {}  # flow name -> file it came from
        self.last: Loaded | None = None

    def reload(self) -> list[Problem]:
        """Load the directory again; returns every problem found (errors and warnings)."""
        loaded = load_directory(self.directory, self.audio_dir)
        broken_files = {p.where.file for p in loaded.errors}
        with self._lock:
            current = dict(self._current)
            for name, flow in loaded.flows.items():
                current[name] = flow
                self._versions[(name, flow.version)] = flow
            present = {str(p) for p in [*self.directory.glob("*.yaml"), *self.directory.glob("*.yml")]}
            for name, file in list(self._files.items()):
                # a deleted file stops serving new calls; a broken one keeps its last good version
                if file not in present and name not in loaded.flows:
                    current.pop(name, None)
            self._files = {name: flow.path for name, flow in current.items()}
            self._current = current
            self.last = loaded
        return [p for p in loaded.problems if p.severity == "error" or p.where.file in broken_files] + \
            [p for p in loaded.problems if p.severity == "warning" and p.where.file not in broken_files]

    @property
    def flows(self) -> dict[str, Flow]:
        return dict(self._current)

    def current(self, name: str) -> Flow:
        try:
            return self._current[name]
        except KeyError:
            raise NoFlow(f"no flow named '{name}' is loaded") from None

    def pinned(self, name: str, version: str) -> Flow:
        """The version a call started on; the current one if this process never saw it."""
        return self._versions.get((name, version)) or self.current(name)

    def for_number(self, number: str) -> Flow:
        flows = self._current.values()
        for flow in flows:
            if number in flow.numbers:
                return flow
        for flow in flows:
            if flow.default:
                return flow
        if len(self._current) == 1:
            return next(iter(flows))
        raise NoFlow(f"no flow serves {number or 'this number'} and no flow is marked 'default: true'")
