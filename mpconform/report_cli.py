"""`mpconform report`: the cross-port matrix from results files."""

from __future__ import annotations

import sys
from pathlib import Path

from mpconform.core.atomicfile import write_atomic


def _cmd_report(args) -> int:
    from mpconform.reports.matrix import build_matrix, mark_baselines, render_html, render_markdown

    matrix = build_matrix([Path(p) for p in args.results])
    mark_baselines(matrix, [Path(p) for p in args.baseline or []])
    outputs = [(args.html, render_html), (args.markdown, render_markdown)]
    for path, render in outputs:
        if path:
            write_atomic(Path(path), render(matrix))
            print(f"wrote {path}")
    if not (args.html or args.markdown):
        sys.stdout.write(render_markdown(matrix))
    differing = len(matrix.differing)
    print(f"mpconform: {len(matrix.ports)} ports, {len(matrix.rows)} behaviours, {differing} differ between ports",
          file=sys.stderr)
    if matrix.baselines:
        print(f"mpconform: against the baseline: {matrix.count('regression')} regressions, {matrix.count('fix')} fixes",
              file=sys.stderr)
    return 0


def register(subparsers) -> None:
    r = subparsers.add_parser("report", help="cross-port matrix (HTML, Markdown) from results files")
    r.add_argument("results", nargs="+", metavar="RESULTS.json", help="files written by `mpconform run --json`")
    r.add_argument("--html", metavar="FILE", help="write the matrix as one self-contained HTML page")
    r.add_argument("--markdown", metavar="FILE", help="write the matrix as compact Markdown (fits a PR comment)")
    r.add_argument("--baseline", metavar="OLD.json", action="append",
                   help="an earlier run of one of the ports: mark the cells that regressed or were fixed since (repeatable)")
    r.set_defaults(func=_cmd_report)
