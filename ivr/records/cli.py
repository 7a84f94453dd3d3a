"""The ``ivr report``, ``ivr purge`` and ``ivr forget`` commands: thin shells over
``Records``. Each returns an exit code: 0 done, 1 the records could not be read or
written (the message says why and what to check), 2 a usage error.

    ivr report --since 2026-11-01 --until 2026-12-01 --flow acme-support --format table
    ivr purge                      # drop records older than IVR_RETENTION_DAYS (default 365)
    ivr forget +15551230000        # drop every record of one caller, and their caller memory
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError

from .database import Records, open_records, records_url
from .memory import CallerMemory, caller_key

__all__ = ["run_report_cli", "run_purge_cli", "run_forget_cli", "report_rows", "parse_moment"]

URL_HELP = "records database (default: IVR_RECORDS_URL, else sqlite:///<cwd>/var/records.sqlite3)"


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or date-time; without a time zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or time, e.g. 2026-11-01 or "
                                         "2026-11-01T08:00:00+00:00") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str], out: TextIO, err: TextIO) -> argparse.Namespace | int:
    """The arguments, or the exit code after --help (0, on ``out``) or a usage error (2, on ``err``)."""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            return parser.parse_args(list(argv))
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 2


def _open(url: str | None, err: TextIO, days: int | None = None) -> Records | None:
    try:
        return open_records(url, days=days)
    except ValueError as exc:
        print(f"error: {exc}", file=err)
    except SQLAlchemyError as exc:
        where = _redact(url or records_url())
        print(f"error: cannot open the call records at {where}: {type(exc).__name__}: {exc.args[0] if exc.args else ''}\n"
              "check IVR_RECORDS_URL and that the database is running", file=err)
    return None


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if at and ":" in creds:
        return f"{scheme}{sep}{creds.split(':', 1)[0]}:***@{host}"
    return url


def run_report_cli(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``ivr report [--since ISO] [--until ISO] [--flow NAME] [--format table|json|csv]``."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(prog="ivr report", description="The line's figures from the call records: "
                                     "containment, transfers by reason, drop-off by prompt, agents, satisfaction. "
                                     "Definitions: docs/REPORTS.md. Example: ivr report --since 2026-11-01 --format json")
    parser.add_argument("--since", type=parse_moment,
                        help="calls that started at or after this moment (ISO 8601, UTC if no zone)")
    parser.add_argument("--until", type=parse_moment, help="calls that started before this moment")
    parser.add_argument("--flow", help="one flow only (its name, e.g. acme-support)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.add_argument("--url", help=URL_HELP)
    args = _parse(parser, argv, out, err)
    if isinstance(args, int):
        return args
    records = _open(args.url, err)
    if records is None:
        return 1
    try:
        figures = records.report(since=args.since, until=args.until, flow=args.flow)
    except SQLAlchemyError as exc:
        print(f"error: the report could not be read: {type(exc).__name__}", file=err)
        return 1
    finally:
        records.close()
    if args.format == "json":
        json.dump(figures, out, indent=2)
        out.write("\n")
    elif args.format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["section", "name", "figure", "value"])
        writer.writerows(report_rows(figures))
    else:
        out.write(_table(figures))
    return 0


def report_rows(figures: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """The report as (section, name, figure, value) rows: the CSV layout."""
    for key, value in figures.items():
        if isinstance(value, dict):
            for name, inner in value.items():
                if isinstance(inner, dict):
                    for figure, number in inner.items():
                        yield key, name, figure, number
                else:
                    yield key, "", name, inner
        else:
            yield "line", "", key, value


def _table(figures: dict[str, Any]) -> str:
    def pct(rate: float | None) -> str:
        return "-" if rate is None else f"{rate * 100:.1f}%"

    window = f"{figures['since'] or 'the first record'} to {figures['until'] or 'now'}"
    lines = [f"Calls from {window}" + (f", flow {figures['flow']}" if figures["flow"] else ""), "",
             f"  calls               {figures['calls']}",
             f"  contained           {figures['contained']}  ({pct(figures['containment_rate'])})",
             f"  transferred         {figures['transferred']}  ({pct(figures['transfer_rate'])}), "
             f"connected to a person {figures['connected']}",
             "  transfer reasons    " + ", ".join(f"{k} {v}" for k, v in figures["transfer_reasons"].items()),
             f"  abandoned           {figures['abandoned']} in the menus, {figures['abandoned_on_hold']} on hold "
             f"({pct(figures['abandonment_rate'])})",
             f"  satisfaction        {figures['csat']['responses']} answers, average {figures['csat']['average'] or '-'}",
             "", f"  {'node':<28}{'entered':>9}{'no input':>10}{'no match':>10}{'hung up':>9}{'avg s':>8}"]
    for node, f in figures["nodes"].items():
        lines.append(f"  {node:<28}{f['entered']:>9}{f['no_input']:>10}{f['no_match']:>10}{f['hung_up']:>9}"
                     f"{f['avg_time_s'] if f['avg_time_s'] is not None else '-':>8}")
    lines += ["", f"  {'agent':<28}{'offered':>9}{'accepted':>10}{'passed':>8}{'missed':>8}{'avg answer s':>14}"]
    for agent, f in figures["agents"].items():
        lines.append(f"  {agent:<28}{f['offered']:>9}{f['accepted']:>10}{f['passed']:>8}{f['missed']:>8}"
                     f"{f['avg_answer_s'] if f['avg_answer_s'] is not None else '-':>14}")
    return "\n".join(lines) + "\n"


def run_purge_cli(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``ivr purge [--days N] [--now ISO]``: delete records older than the retention period."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(prog="ivr purge", description="Delete call records older than the retention "
                                     "period (IVR_RETENTION_DAYS, default 365). Example: ivr purge --days 90")
    parser.add_argument("--days", type=int, help="keep this many days instead of IVR_RETENTION_DAYS")
    parser.add_argument("--now", type=parse_moment, help="count the days back from this moment (default: now)")
    parser.add_argument("--url", help=URL_HELP)
    args = _parse(parser, argv, out, err)
    if isinstance(args, int):
        return args
    if args.days is not None and args.days < 1:
        print("error: --days must be at least 1", file=err)
        return 2
    records = _open(args.url, err, args.days)
    if records is None:
        return 1
    try:
        deleted = records.purge(args.now or datetime.now(UTC))
        profiles = CallerMemory(records.engine).purge(args.now or datetime.now(UTC))
    except SQLAlchemyError as exc:
        print(f"error: the purge failed and changed nothing: {type(exc).__name__}", file=err)
        return 1
    finally:
        records.close()
    print(f"deleted {deleted} call record(s) older than {records.retention_days} days", file=out)
    print(f"deleted {profiles} caller profile(s) past their flow's memory retention", file=out)
    return 0


def run_forget_cli(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None,
                   memory_key: str = "") -> int:
    """``ivr forget NUMBER``: delete every call record of one caller, and their caller
    memory (found by the keyed hash of the number under ``memory_key``: IVR_MEMORY_KEY,
    else IVR_SECRET_KEY)."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(prog="ivr forget", description="Delete every call record of one caller. "
                                     "Example: ivr forget +15551230000")
    parser.add_argument("number", help="the caller's number as the line saw it, e.g. +15551230000")
    parser.add_argument("--url", help=URL_HELP)
    args = _parse(parser, argv, out, err)
    if isinstance(args, int):
        return args
    if not args.number.strip():
        print("error: give the caller's number, e.g. +15551230000", file=err)
        return 2
    records = _open(args.url, err)
    if records is None:
        return 1
    key = caller_key(args.number.strip(), memory_key)
    try:
        profiles, keyed = CallerMemory(records.engine).forget(key) if key else (0, 0)
        deleted = records.forget(args.number.strip()) + keyed
    except SQLAlchemyError as exc:
        print(f"error: nothing was forgotten: {type(exc).__name__}", file=err)
        return 1
    finally:
        records.close()
    print(f"deleted {deleted} call record(s) of {args.number.strip()}", file=out)
    if key:
        print(f"deleted {profiles} caller memory profile(s) of {args.number.strip()}", file=out)
    elif memory_key:
        print(f"{args.number.strip()} is a withheld number: no caller memory is kept for it", file=out)
    else:
        print("caller memory was not searched: set IVR_MEMORY_KEY (or IVR_SECRET_KEY) as the line has it", file=err)
    return 0
