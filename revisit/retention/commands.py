"""The `revisit export research` and `revisit retention run` commands.

Imported by `revisit.cli` before Django starts, so Django is imported inside the handlers only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]
AddCommand = Callable[[str, Handler, str], argparse.ArgumentParser]


def _fail(message: str) -> int:
    print(f"revisit: {message}", file=sys.stderr)
    return 2


def cmd_export_research(args: argparse.Namespace) -> int:
    from revisit.cli import prepare

    prepare()
    from revisit.ids import parse_id
    from revisit.retention.research import research_export

    practice_id = None
    if args.practice:
        practice_id = parse_id(args.practice)
        if practice_id is None:
            return _fail("--practice takes a practice id")
    out = Path(args.out)
    if not out.parent.is_dir():
        return _fail(f"no folder {out.parent} to write the export into")
    summary = research_export(path=out, practice_id=practice_id)
    print(f"{summary.rows} reviews from {summary.participants} consenting clients written to {out}")
    return 0


def cmd_retention_run(args: argparse.Namespace) -> int:
    from revisit.cli import prepare

    prepare()
    from revisit.retention.run import retention_run

    report = retention_run()
    print(json.dumps(report.as_dict(), sort_keys=True))
    return 0 if not report.failed else 1


def add_commands(add: AddCommand) -> None:
    """Register the commands on the `revisit` parser (`add` is its helper)."""
    export = add("export", lambda a: _fail("use `revisit export research`"), "export data")
    export_sub = export.add_subparsers(dest="export_command", metavar="KIND", required=True)
    research = export_sub.add_parser(
        "research",
        help="de-identified review figures of clients with research consent, as CSV",
    )
    research.set_defaults(func=cmd_export_research)
    research.add_argument("--out", required=True, metavar="FILE.csv")
    research.add_argument("--practice", metavar="ID", help="one practice only")

    retention = add(
        "retention", lambda a: _fail("use `revisit retention run`"), "apply the retention policy"
    )
    retention_sub = retention.add_subparsers(
        dest="retention_command", metavar="ACTION", required=True
    )
    run = retention_sub.add_parser(
        "run",
        help="end expired shares and delete what the policy says is due now; prints JSON",
    )
    run.set_defaults(func=cmd_retention_run)
