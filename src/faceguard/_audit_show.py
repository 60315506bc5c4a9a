"""``faceguard audit show --decision ID FILE``: one decision, its reviews and its disputes.

What an operator answering a person's dispute (R22) or an auditor checking oversight (R11)
needs on one screen: the recognition call (operation, route, time, Azure request id, how many
reviewers it needs), each review (when, which reviewer pseudonym, what they decided, the
outcome's digest) and each dispute (when, the reason given). The log is verified first: the
hash chain always, the signed checkpoints with ``--key``, the stored head with ``--store``;
nothing is shown from a log that fails, since its history could be forged.

Nothing here prints a secret or a person in clear: subjects and reviewers are the log's own
``hmac:`` pseudonyms (shortened), outcomes are SHA-256 digests, and the log never held more.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ._guard._audit_record import AuditRecord
    from ._guard._review import DecisionHistory

__all__ = ["render", "show"]


def _short(pseudonym: object) -> str:
    """``hmac:`` and the first 16 hex digits: enough to tell reviewers apart on a screen."""
    return f"{pseudonym[:21]}..." if isinstance(pseudonym, str) else "-"


def _line(record: AuditRecord) -> str:
    return f"#{record.seq} {record.ts}"


def render(found: DecisionHistory, out: TextIO) -> None:
    """Write ``found`` as text."""
    decision = found.decision
    required = decision.details.get("reviewers_required")
    out.write(f"decision {decision.hash}\n")
    out.write(f"  {_line(decision)} {decision.operation} ({decision.route})\n")
    out.write(f"  outcome record: {decision.event}, {decision.decision}\n")
    out.write(f"  subject: {_short(decision.subject)}\n")
    if decision.request_id:
        out.write(f"  apim-request-id: {decision.request_id}\n")
    suppressed = decision.details.get("suppressed")
    if isinstance(suppressed, int) and suppressed:
        out.write(f"  candidates withheld (no live consent): {suppressed}\n")
    if isinstance(required, int):
        status = "confirmed" if any(r.decision == "confirmed" for r in found.reviews) else "open"
        if any(r.decision == "refused" for r in found.reviews):
            status = "reviewers disagree"
        out.write(f"  oversight: {required} reviewer(s) required; {status}\n")
    else:
        out.write("  oversight: not required for this call\n")
    out.write(f"reviews: {len(found.reviews)}\n")
    for review in found.reviews:
        details = review.details
        out.write(
            f"  {_line(review)} {review.decision}: reviewer {_short(details.get('reviewer'))}"
            f" - {review.reason} (outcome {details.get('outcome')})\n"
        )
    out.write(f"disputes: {len(found.disputes)}\n")
    for dispute in found.disputes:
        out.write(f"  {_line(dispute)} {dispute.reason}\n")


def show(args: Any, *, read_key: Any, open_store: Any, fail: Any) -> int:
    """Run the command: verify the log, then print the decision. Exit 0, 2 (bad usage, an
    unreadable file, no such decision) or the verification's exit status."""
    from ._exceptions import FaceGuardError
    from ._guard._audit import verify_chain
    from ._guard._audit_verify import EXIT_CODES, verify_log
    from ._guard._review import check_decision_id, history

    try:
        check_decision_id(args.decision)
    except FaceGuardError as exc:
        return int(fail(str(exc)))
    public = None
    if args.key is not None:
        read = read_key(args.key)
        if isinstance(read, str):
            return int(fail(read))
        public = read[0]
    store = None
    try:
        if args.store is not None:
            store = open_store(args.store)
        if public is None and store is None:
            report = verify_chain(args.file)
            if not report.ok:
                sys.stderr.write(
                    f"faceguard: not shown: the chain is broken at record "
                    f"{report.first_broken} ({report.problem})\n"
                )
                return EXIT_CODES["broken"]
            checked = f"chain of {report.records} records intact"
        else:
            verdict = verify_log(args.file, public_key=public, store=store, log_id=args.log_id)
            if not verdict.ok:
                label = verdict.status.upper().replace("_", " ")
                sys.stderr.write(
                    f"faceguard: not shown: {label} at record {verdict.at} ({verdict.problem})\n"
                )
                return EXIT_CODES[verdict.status]
            checked = f"{verdict.records} records verified, {verdict.checkpoints} checkpoint(s)"
        found = history(args.file, args.decision)
    except FileNotFoundError as exc:
        return int(fail(str(exc)))
    except OSError as exc:
        return int(fail(f"cannot read {args.file}: {exc.strerror or exc}"))
    except (ValueError, FaceGuardError) as exc:
        return int(fail(str(exc)))
    finally:
        if store is not None:
            store.close()
    sys.stdout.write(f"audit log {args.file}: {checked}\n")
    render(found, sys.stdout)
    return 0
