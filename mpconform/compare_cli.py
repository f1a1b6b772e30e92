"""`mpconform compare OLD.json NEW.json`: what changed since the last run; exit 1 on a regression."""

from __future__ import annotations

import sys
from pathlib import Path

from mpconform.core.atomicfile import write_atomic


def _cmd_compare(args) -> int:
    from mpconform.reports.compare import compare_files, render_markdown, render_text

    cmp = compare_files(Path(args.old), Path(args.new))
    sys.stdout.write(render_text(cmp))
    if args.markdown:
        write_atomic(Path(args.markdown), render_markdown(cmp))
    return 1 if cmp.regressions else 0


def register(subparsers) -> None:
    c = subparsers.add_parser("compare", help="regressions and fixes between two results files (exit 1 on a regression)")
    c.add_argument("old", metavar="OLD.json", help="the baseline run (`mpconform run --json`)")
    c.add_argument("new", metavar="NEW.json", help="the run to check")
    c.add_argument("--markdown", metavar="FILE", help="write the comparison as Markdown (fits a pull-request comment)")
    c.set_defaults(func=_cmd_compare)
