"""``ivr validate [PATH ...]``: check flow files and show every problem the way an
editor would (file:line:col, the line, a caret under the column, a hint), then a
one-line summary.

Exit codes: 0 every flow is valid (warnings allowed), 1 at least one error, 2 a usage
error (a path that does not exist, or no flow files at all). Never a traceback: a bug
of ours while checking a file is shown as an internal error on that file.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from ivr.model.problems import Problem, Where, format_problem
from ivr.model.targets import AgentsOnFile

from .loader import Loaded, load_paths

DEFAULT_PATHS = ("call_flows",)
SUFFIXES = (".yaml", ".yml")


def flow_files(paths: Iterable[str]) -> tuple[list[Path], list[str]]:
    """(flow files, paths that do not exist); directories give their *.yaml and *.yml."""
    files: list[Path] = []
    missing: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(text)
    return list(dict.fromkeys(files)), missing


def run_validate(paths: list[str] | None, out: TextIO, err: TextIO, audio_dir: Path | None = None,
                 agents: AgentsOnFile | None = None) -> int:
    """Validate ``paths`` (default: call_flows/); print problems to ``out``, usage errors to ``err``;
    agent pools are checked against ``agents`` (the agents file's languages and skills) when given."""
    files, missing = flow_files(paths or DEFAULT_PATHS)
    for text in missing:
        print(f"ivr validate: error: no such file or directory: {text}", file=err)
    if missing:
        print("usage: ivr validate [PATH ...]  (flow files, or folders of *.yaml files; default: call_flows/)", file=err)
        return 2
    if not files:
        print(f"ivr validate: error: no flow files (*.yaml, *.yml) in {', '.join(paths or DEFAULT_PATHS)}", file=err)
        return 2
    try:
        loaded = load_paths(files, audio_dir, agents=agents)
    except Exception as exc:  # the loader catches per file; this is the last line of defence
        loaded = Loaded(problems=[Problem(Where(str(files[0]), 1, 1), f"internal error while checking flows: {exc!r}",
                                          "this is a bug in the IVR, not in your flows; please report it")])
    problems = sorted(loaded.problems, key=lambda p: (p.where.file, p.where.line, p.where.col, p.severity))
    for problem in problems:
        print(format_problem(problem, loaded.sources.get(problem.where.file)), file=out)
    print(summary(len(files), len(loaded.flows), problems), file=out)
    return 1 if any(p.severity == "error" for p in problems) else 0


def summary(files: int, flows_ok: int, problems: list[Problem]) -> str:
    """e.g. "2 files, 1 flow ok, 3 errors, 1 warning"."""
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    return ", ".join((_count(files, "file"), _count(flows_ok, "flow") + " ok", _count(errors, "error"),
                      _count(warnings, "warning")))


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
