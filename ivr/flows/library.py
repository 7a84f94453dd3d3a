"""The flows a line serves, with every version a live call may still be pinned to.

``FlowLibrary.reload()`` reads the flows directory again: a file that validates replaces
its flow for new calls; a broken file is refused (its problems are returned for the log)
and the last good version keeps serving; a call keeps the version it started with
(``pinned``) until it ends.

With an ``archive`` (the session store), every version loaded is also written there, as
the text of its file (the event log of the key ``flow:NAME:VERSION``), and ``pinned``
reads a version this process never loaded from there: the next webhook of a call may
reach another host, or this one after a restart, and the call still gets the exact
version it began on. A version that is neither here nor in the archive is refused
(``UnknownVersion``) instead of being silently replaced by the current one.

A file that does not load and has no good version serving is ``refused``: the numbers
it names (read from its YAML as far as it goes) are never handed to another flow, not
even to the default flow or the only flow loaded; ``for_number`` raises ``FlowRefused``
for them, so the caller gets the apology and a person, not somebody else's menu. When
the file cannot be read far enough to know its numbers (or it is the default flow), no
number that another flow does not name is handed on. A server refuses to start unless
every file loads (``startup_problems``).
"""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ivr.model.flow import Flow
from ivr.model.problems import Problem, Where, format_problem

from .loader import Loaded, load_directory, load_text


class NoFlow(LookupError):
    """No flow serves this number, and no flow is marked ``default: true``."""


class UnknownVersion(NoFlow):
    """A call is pinned to a flow version that is neither loaded nor in the archive."""


class FlowRefused(NoFlow):
    """The number belongs to a flow file that did not load; no other flow takes its calls."""


class FlowsNotLoaded(ValueError):
    """A server must not start: some flow files did not load (``problems`` says which and why)."""

    def __init__(self, message: str, problems: list[Problem]):
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class Refused:
    """A flow file that did not load and has no good version serving.

    ``numbers``: the numbers its ``numbers:`` names; ``claims_rest``: it may be the flow for
    numbers nobody names (``default: true``, or its YAML could not be read that far);
    ``reason``: its first error, ``file:line:col: message``.
    """

    file: str
    name: str
    numbers: frozenset[str]
    claims_rest: bool
    reason: str


log = logging.getLogger(__name__)


def archive_key(name: str, version: str) -> str:
    return f"flow:{name}:{version}"


class FlowLibrary:
    def __init__(self, directory: str | Path, audio_dir: str | Path | None = None, archive: Any = None):
        self.directory = Path(directory)
        self.audio_dir = Path(audio_dir) if audio_dir else None
        self.archive = archive  # a SessionStore (append_event / events), shared by every host
        self._archived: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._current: dict[str, Flow] = {}
        self._versions: dict[tuple[str, str], Flow] = {}
        self._files: dict[str, str] = {}  # flow name -> file it came from
        self._refused: dict[str, Refused] = {}  # file -> what it would have served
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
            serving = set(self._files.values())
            self._refused = {file: _refused(file, loaded) for file in sorted(broken_files) if file not in serving}
            self._current = current
            self.last = loaded
        problems = self._share(loaded)
        return problems + [p for p in loaded.problems if p.severity == "error" or p.where.file in broken_files] + \
            [p for p in loaded.problems if p.severity == "warning" and p.where.file not in broken_files]

    @property
    def flows(self) -> dict[str, Flow]:
        return dict(self._current)

    @property
    def refused(self) -> list[Refused]:
        """The flow files that did not load and have no good version serving."""
        return list(self._refused.values())

    def startup_problems(self) -> FlowsNotLoaded | None:
        """Why a server must not start on the last load, or None when every file loaded.

        Every flow file must load (a broken one would leave its callers to an apology),
        and there must be at least one flow."""
        loaded = self.last
        if loaded is None:
            return FlowsNotLoaded("the flows were never loaded", [])
        errors = loaded.errors
        if errors:
            files = sorted({p.where.file for p in errors})
            many = len(files) != 1
            shown = "\n".join(format_problem(p, loaded.sources.get(p.where.file)) for p in errors)
            return FlowsNotLoaded(
                f"{len(files)} flow file{'s' if many else ''} did not load ({', '.join(files)}), so the server "
                f"does not start: {'their' if many else 'its'} callers would hear an apology instead of "
                f"{'their' if many else 'its'} menu.\n{shown}\nFix {'them' if many else 'it'} "
                f"(ivr validate {self.directory} shows every problem), or move {'them' if many else 'it'} out of "
                "the flows folder, and start again.", errors)
        if not self._current:
            return FlowsNotLoaded(
                f"no flow files (*.yaml) in {self.directory}{'' if self.directory.is_dir() else ' (no such folder)'}, "
                "so the server does not start: set IVR_FLOWS_DIR to the folder of your flows, "
                "e.g. IVR_FLOWS_DIR=/path/to/project/call_flows", [])
        return None

    def current(self, name: str) -> Flow:
        try:
            return self._current[name]
        except KeyError:
            raise NoFlow(f"no flow named '{name}' is loaded") from None

    def pinned(self, name: str, version: str) -> Flow:
        """The version a call started on. Without an archive: the current one if this
        process never saw it; with one: read from the archive, or ``UnknownVersion``."""
        flow = self._versions.get((name, version))
        if flow is not None:
            return flow
        if self.archive is None:
            return self.current(name)
        flow = self._from_archive(name, version)
        if flow is None:
            raise UnknownVersion(f"flow '{name}' version {version} is neither loaded nor in the store's archive")
        with self._lock:
            self._versions[(name, version)] = flow
            self._archived.add((name, version))
        return flow

    # -- the archive: every version any host loaded, by name and version ------------------

    def _share(self, loaded: Loaded) -> list[Problem]:
        """Write each newly loaded version's file text to the archive (once)."""
        if self.archive is None:
            return []
        problems = []
        for name, flow in loaded.flows.items():
            if (name, flow.version) in self._archived:
                continue
            try:
                text = Path(flow.path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
            if text is None or _version_of(text) != flow.version:
                text = _rebuild(loaded.sources.get(flow.path, []), flow.version)
            if text is None:  # edited again while loading: the next reload shares the new text
                problems.append(Problem(Where(flow.path, 1, 1), f"flow '{name}' changed while it was being "
                                        "loaded; reload again so that other hosts can serve it", severity="warning"))
                continue
            key = archive_key(name, flow.version)
            try:
                if not self.archive.events(key):
                    self.archive.append_event(key, {"type": "FlowVersion", "flow": name, "version": flow.version,
                                                    "file": flow.path, "text": text})
            except Exception as exc:  # a store outage must not stop this host from serving
                problems.append(Problem(Where(flow.path, 1, 1), f"flow '{name}' version {flow.version} could not be "
                                        f"saved in the store, so other hosts cannot serve its calls: {exc}",
                                        "check IVR_STORE and reload again", severity="warning"))
                continue
            self._archived.add((name, flow.version))
        return problems

    def _from_archive(self, name: str, version: str) -> Flow | None:
        try:
            records = self.archive.events(archive_key(name, version))
        except Exception:
            log.exception("flow '%s' version %s: the store's archive cannot be read", name, version)
            return None
        for record in records:
            text = record.get("text")
            if not isinstance(text, str) or _version_of(text) != version:
                continue
            flow, problems = load_text(text, str(record.get("file") or name), None)
            if flow is not None:
                log.info("flow '%s' version %s loaded from the store's archive for a live call", name, version)
                return flow
            log.error("flow '%s' version %s from the archive does not load here: %s", name, version,
                      "; ".join(f"{p.where}: {p.message}" for p in problems if p.severity == "error"))
        return None

    def for_number(self, number: str) -> Flow:
        """The flow that serves ``number``: the one naming it, else the default flow, else the
        only flow; never one standing in for a refused file's numbers (``FlowRefused``)."""
        flows = list(self._current.values())
        for flow in flows:
            if number in flow.numbers:
                return flow
        for refused in self._refused.values():
            if number in refused.numbers or refused.claims_rest:
                raise FlowRefused(f"{number or 'this number'} belongs to {refused.file}, which did not load "
                                  f"({refused.reason}); no other flow takes its calls")
        for flow in flows:
            if flow.default:
                return flow
        if len(self._current) == 1:
            return next(iter(flows))
        raise NoFlow(f"no flow serves {number or 'this number'} and no flow is marked 'default: true'")


def _refused(file: str, loaded: Loaded) -> Refused:
    """What a file that did not load claims, read from its YAML as far as that goes."""
    first = next(p for p in loaded.errors if p.where.file == file)
    reason = f"{first.where}: {first.message}"
    lines = loaded.sources.get(file)
    try:
        data = yaml.safe_load("\n".join(lines)) if lines is not None else None
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        return Refused(file, Path(file).stem, frozenset(), True, reason)
    numbers = data.get("numbers")
    listed = [numbers] if isinstance(numbers, str) else numbers if isinstance(numbers, list) else []
    unreadable = numbers is not None and not isinstance(numbers, (str, list))
    claimed = frozenset(n if isinstance(n, str) else f"+{n}" for n in listed)  # YAML reads +1500... as a number
    return Refused(file, str(data.get("flow") or Path(file).stem), claimed, data.get("default") is True or unreadable,
                   reason)


def _version_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]  # as the loader computes it


def _rebuild(lines: list[str], version: str) -> str | None:
    """The file's text from the lines the loader kept, if it hashes to ``version``."""
    for newline in ("\n", "\r\n"):
        for end in (newline, ""):
            text = newline.join(lines) + end
            if _version_of(text) == version:
                return text
    return None
