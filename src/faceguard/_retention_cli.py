"""``faceguard retention due|sweep``: the retention sweeper from cron (GUARD.md §4.6).

The sweep must see what the application's guard sees: the same guard store (where the
enrollments, their retention claims, last interactions and withdrawals are), the same audit
log, the same declared jurisdictions, the same Face resource and credential. Flags cannot
carry all of that safely (a key on a command line shows in ``ps``), so the command takes the
application's own client factory:

    faceguard retention sweep --client myapp.face:make_client

``--client`` (or the ``FACEGUARD_CLIENT`` environment variable) names ``MODULE:CALLABLE``;
the callable takes no argument and returns a ``FaceClient``, built as the application builds
its own (``GuardPolicy(store=SQLiteStore(...) or RedisStore(...), audit=AuditLog(...),
jurisdictions=...)``). The module is imported from the current directory first, then the
usual import path. A crontab line runs it from the application's directory, e.g.
``17 3 * * * cd /srv/myapp && faceguard retention sweep --client myapp.face:make_client``.

``due`` prints what is past its deadline (kind, container, deadline, rule; never the person
or face ids) and exits 0. ``sweep`` deletes it and prints a summary: exit 0 when everything
due was deleted, 1 when something failed or cannot be deleted (Person Directory persons),
2 when the client cannot be built.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import sys
from collections import Counter
from typing import Any

__all__ = ["add_parser", "run"]

ENV_VAR = "FACEGUARD_CLIENT"


def add_parser(commands: Any) -> None:
    """Register ``retention due`` and ``retention sweep`` on the top-level subparsers."""
    retention = commands.add_parser(
        "retention",
        help="list or delete persons and faces whose retention has ended (GUARD.md §4.6)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    sub = retention.add_subparsers(dest="retention_command", required=True)
    for name, text in (
        ("due", "list what is past its destroy-by date (no ids printed)"),
        ("sweep", "delete what is past its destroy-by date (audited, safe to re-run)"),
    ):
        command = sub.add_parser(name, help=text, description=text)
        command.add_argument(
            "--client",
            default=None,
            metavar="MODULE:CALLABLE",
            help=f"a function returning the application's FaceClient (default: ${ENV_VAR})",
        )


def _fail(message: str) -> int:
    sys.stderr.write(f"faceguard retention: {message}\n")
    return 2


def _factory(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--client must be MODULE:CALLABLE, not {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name}: {exc}") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ValueError(f"{module_name} has no callable {attribute}")
    return factory


def _when(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def run(args: argparse.Namespace) -> int:
    """Build the client, then list or sweep; returns the exit status."""
    from ._client import FaceClient
    from ._exceptions import AuditError, FaceGuardError

    spec = args.client or os.environ.get(ENV_VAR)
    if not spec:
        return _fail(f"name the client factory: --client MODULE:CALLABLE or ${ENV_VAR}")
    try:
        client = _factory(spec)()
    except ValueError as exc:
        return _fail(str(exc))
    except FaceGuardError as exc:
        return _fail(f"the client factory failed: {type(exc).__name__}: {exc}")
    if not isinstance(client, FaceClient):
        return _fail(f"{spec} returned a {type(client).__name__}, not a FaceClient")
    with client:
        try:
            if args.retention_command == "due":
                due = client.retention.due()
                for item in due:
                    sys.stdout.write(
                        f"{item.kind} {item.container_id}: due since {_when(item.destroy_by)} "
                        f"({item.basis})\n"
                    )
                sys.stdout.write(f"{len(due)} item(s) due\n")
                return 0
            report = client.retention.sweep()
        except AuditError as exc:
            sys.stderr.write(f"faceguard retention: {exc}\n")
            return 1
        except FaceGuardError as exc:
            return _fail(f"{type(exc).__name__}: {exc}")
    sys.stdout.write(
        f"swept: {len(report.deleted)} deleted, {len(report.already_gone)} already gone, "
        f"{len(report.not_erasable)} not erasable (Person Directory), "
        f"{len(report.failed)} failed\n"
    )
    for error, count in sorted(Counter(report.errors).items()):
        sys.stdout.write(f"  {count} failed with {error}: run the sweep again to retry\n")
    return 0 if report.complete else 1
