"""The ``faceguard`` command line.

Commands land with the issues that build them; today: ``faceguard version``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faceguard",
        description="faceguard: a guarded client for the Azure AI Face API v1.2",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("version", help="print the faceguard version")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = _parser().parse_args(argv)
    if args.command == "version":
        sys.stdout.write(f"faceguard {__version__}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
