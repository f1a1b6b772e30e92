"""`mpconform findings RESULTS... [--out DIR]`: one Markdown report per crash, hang or
model violation in the results files, and an index."""

from __future__ import annotations

from pathlib import Path


def _cmd_findings(args) -> int:
    from mpconform.reports.findings import findings, load_builds, write_reports

    paths = [Path(p) for p in args.results]
    found = findings(Path(args.root), load_builds(paths))
    out = Path(args.out)
    write_reports(out, found, [str(p) for p in paths])
    if not found:
        print(f"mpconform: no findings (no crash, hang or model violation) in {len(paths)} results file(s); "
              f"wrote {out / 'README.md'}")
        return 0
    for f in found:
        print(f"{', '.join(f.kinds):16} {f.id}: {out / f.file_name}")
    print(f"mpconform: {len(found)} finding(s) from {len(paths)} results file(s); index: {out / 'README.md'}")
    return 0


def register(subparsers) -> None:
    f = subparsers.add_parser("findings", help="one Markdown report per crash, hang or model violation in results files")
    f.add_argument("results", nargs="+", metavar="RESULTS.json",
                   help="files written by `mpconform run --json` (several ports, builds or releases)")
    f.add_argument("--out", metavar="DIR", default="findings", help="folder for the reports and their index "
                   "README.md (default: findings)")
    f.set_defaults(func=_cmd_findings)
