"""The ``faceguard demo`` report: one self-contained HTML page of what the demo did.

The demo fills a ``DemoRecord`` as it runs (what ran and on what, each step's pictures and
answers, the refusals, the audit chain); ``render_report`` turns it into a single file a
reader can open anywhere or attach to a ticket: every picture is inlined as a JPEG data URI
and the styles sit in the page, so nothing is fetched. The honest notes (what a confidence
is, which landmarks were measured) are said once, at the end, not under every table.

What never reaches the page: faceIds, personIds and consent subjects (biometric handles and
pseudonyms). Photos do: showing them is the report's purpose, and they
are the demo's example photos, not a user's.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..notebook._html import esc, fmt_float
from ..notebook._images import thumbnail_tag

__all__ = [
    "AuditSummary",
    "DemoRecord",
    "Enrolled",
    "Pair",
    "Probe",
    "RefusalShown",
    "render_report",
]

_THUMB = 180
_NOT_A_PROBABILITY = (
    "A confidence is a similarity score between 0 and 1, not a probability: 0.9 does not "
    "mean a 90 % chance of being the same person. Identify and verify call two faces the same "
    "person at 0.5 and above (the service's default threshold); a real deployment picks and "
    "validates its own threshold for its use case."
)


@dataclass(frozen=True)
class Enrolled:
    """A person of the gallery and the photo enrolled for them."""

    name: str
    photo: Path


@dataclass(frozen=True)
class Probe:
    """A held-out photo and what identify answered."""

    name: str
    photo: Path
    answer: str | None
    """The name of the best candidate, or None: no candidate above the threshold."""
    confidence: float | None
    problem: str | None = None
    """Why the photo was not identified at all (no face, several faces)."""


@dataclass(frozen=True)
class Pair:
    """Two photos given to verify, and its answer."""

    left: Enrolled
    right: Enrolled
    same: bool
    confidence: float


@dataclass(frozen=True)
class RefusalShown:
    """A call the guard refused: what was tried, and the refusal rendered."""

    attempt: str
    html: str


@dataclass(frozen=True)
class AuditSummary:
    """The audit log after the run, as ``verify_chain`` and a count of its events saw it."""

    records: int
    intact: bool
    path: Path
    events: dict[str, int]
    head: str | None


@dataclass
class DemoRecord:
    """Everything the report shows, filled step by step by the demo."""

    version: str
    photo_folder: Path
    people: int
    engine: str
    models: str
    use_case: str
    platform: str
    started: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc)
    )
    photos_used: set[Path] = field(default_factory=set)
    timings: list[tuple[str, float]] = field(default_factory=list)
    detection_photo: Path | None = None
    detection_html: str = ""
    measured_landmarks: frozenset[str] | None = None
    gallery: list[Enrolled] = field(default_factory=list)
    not_enrolled: list[tuple[Enrolled, str]] = field(default_factory=list)
    training: str = ""
    probes: list[Probe] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    groups: list[list[Enrolled]] = field(default_factory=list)
    ungrouped: list[Enrolled] = field(default_factory=list)
    refusals: list[RefusalShown] = field(default_factory=list)
    withdrawal: list[str] = field(default_factory=list)
    audit: AuditSummary | None = None
    total_seconds: float = 0.0


_STYLE = """
body{margin:0;background:#f6f7f9;color:#1d1f23;
font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
main{max-width:1040px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:28px;margin:8px 0 4px}h2{font-size:20px;margin:32px 0 8px;
border-bottom:2px solid #dde1e6;padding-bottom:4px}h3{font-size:15px;margin:16px 0 4px}
p.lead{color:#444;margin:0 0 8px}nav.contents{margin:0 0 12px;font-size:14px}
nav.contents a{color:#1565c0;text-decoration:none}
table.facts{border-collapse:collapse;margin:8px 0}
table.facts th,table.facts td{border:1px solid #d5d9de;padding:4px 10px;text-align:left;
vertical-align:top}table.facts th{background:#eef1f4;font-weight:600;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #d5d9de;border-radius:6px;padding:8px;width:196px}
.card img{display:block;margin:0 auto 6px;border-radius:4px}
.card .name{font-weight:600}.card .file{color:#666;font-size:12px;overflow-wrap:anywhere}
.row{display:flex;align-items:center;gap:14px;margin:10px 0;flex-wrap:wrap}
.arrow{font-size:26px;color:#888}
.verdict{font-weight:600}.ok{color:#1b7f3b}.bad{color:#b3261e}
.bar{display:inline-block;width:90px;height:9px;background:#e3e6ea;vertical-align:middle;
margin-left:6px}.bar span{display:block;height:9px;background:#1976d2}
.refusal{margin:6px 0 14px}
ul.notes li{margin:6px 0}code{font-size:13px;background:#eef1f4;padding:1px 4px;
border-radius:3px;overflow-wrap:anywhere}
"""


def _card(person: Enrolled, caption: str = "") -> str:
    picture = thumbnail_tag(
        person.photo, alt=f"photo of {person.name}", size=_THUMB, image_format="JPEG"
    )
    extra = f"<div>{caption}</div>" if caption else ""
    return (
        f'<div class="card">{picture}<div class="name">{esc(person.name)}</div>'
        f'<div class="file">{esc(person.photo.name)}</div>{extra}</div>'
    )


def _confidence(value: float) -> str:
    width = max(0.0, min(1.0, value)) * 100
    return (
        f"confidence {esc(fmt_float(value))}"
        f'<span class="bar"><span style="width:{width:.0f}%"></span></span>'
    )


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{esc(label)}</th><td>{cell}</td></tr>" for label, cell in rows)
    return f'<table class="facts"><tbody>{body}</tbody></table>'


def _setup(record: DemoRecord) -> str:
    when = record.started.strftime("%Y-%m-%d %H:%M UTC")
    timings = _facts([(step, esc(f"{seconds:.2f} s")) for step, seconds in record.timings])
    licence = (
        " (their licences: LICENSE.md in that folder)"
        if (record.photo_folder / "LICENSE.md").is_file()
        else ""
    )
    rows = [
        (
            "photos",
            esc(
                f"{len(record.photos_used)} photos of {record.people} people from "
                f"{record.photo_folder}{licence}"
            ),
        ),
        ("service", "the embedded Face API v1.2 emulator, in process: no cloud, no network"),
        ("face engine", esc(record.engine)),
        ("Face API models", esc(record.models)),
        (
            "guard",
            esc(
                f"use case {record.use_case}; consent tokens from an in-memory Ed25519 issuer; "
                "every decision in a hash-chained audit log"
            ),
        ),
        ("ran on", esc(f"{record.platform}, {when}")),
        ("total time", esc(f"{record.total_seconds:.1f} s")),
    ]
    return (
        '<section id="setup"><h2>What ran, on what</h2>'
        + _facts(rows)
        + "<h3>Time per step</h3>"
        + timings
        + "</section>"
    )


def _detection(record: DemoRecord) -> str:
    name = record.detection_photo.name if record.detection_photo else ""
    return (
        '<section id="detect"><h2>1. Detect</h2>'
        f"<p>{esc(name)}: the box, the 27 landmarks and the allowed quality attributes, "
        "without a faceId (no biometric template is kept, so no consent is needed).</p>"
        f"{record.detection_html}</section>"
    )


def _gallery(record: DemoRecord) -> str:
    cards = "".join(_card(person) for person in record.gallery)
    left_out = ""
    if record.not_enrolled:
        refused = "".join(
            _card(person, f'<span class="bad">not enrolled: {esc(reason)}</span>')
            for person, reason in record.not_enrolled
        )
        left_out = f'<h3>Not enrolled</h3><div class="cards">{refused}</div>'
    return (
        '<section id="enroll"><h2>2. Enrolled gallery</h2>'
        "<p>One photo per person, each added under that person's own consent token "
        f"(operation enroll); then the group was trained: {esc(record.training)}.</p>"
        f'<div class="cards">{cards}</div>{left_out}</section>'
    )


def _identify(record: DemoRecord) -> str:
    by_name = {person.name: person for person in record.gallery}
    rows: list[str] = []
    correct = 0
    for probe in record.probes:
        right = probe.answer == probe.name
        correct += right
        held_out = _card(Enrolled(probe.name, probe.photo), "held-out photo")
        if probe.problem is not None:
            answer = f'<div class="verdict bad">{esc(probe.problem)}</div>'
        elif probe.answer is None or probe.confidence is None:
            answer = '<div class="verdict bad">no candidate</div>'
        else:
            match = by_name.get(probe.answer)
            mark = '<span class="ok">correct</span>' if right else '<span class="bad">wrong</span>'
            answer = (
                (_card(match) if match is not None else "")
                + f'<div class="verdict">identified as {esc(probe.answer)} ({mark})</div>'
                + f"<div>{_confidence(probe.confidence)}</div>"
            )
        rows.append(f'<div class="row">{held_out}<span class="arrow">&rarr;</span>{answer}</div>')
    return (
        '<section id="identify"><h2>3. Identify</h2>'
        "<p>A second photo of each person, never enrolled, detected and identified against "
        "the trained group under a kiosk session's consent token: "
        f"<strong>{correct} of {len(record.probes)} correct</strong>.</p>"
        + "".join(rows)
        + "</section>"
    )


def _verify_and_group(record: DemoRecord) -> str:
    parts = ['<section id="verify"><h2>4. Verify and group</h2>']
    for pair in record.pairs:
        verdict = "same person" if pair.same else "different people"
        parts.append(
            f'<div class="row">{_card(pair.left)}<span class="arrow">&harr;</span>'
            f'{_card(pair.right)}<div><div class="verdict">{verdict}</div>'
            f"<div>{_confidence(pair.confidence)}</div></div></div>"
        )
    parts.append("<h3>Group</h3><p>The faces, grouped by similarity:</p>")
    for number, group in enumerate(record.groups, start=1):
        cards = "".join(_card(person) for person in group)
        parts.append(
            f"<div><strong>group {number}</strong> ({len(group)} faces of one person)</div>"
            f'<div class="cards">{cards}</div>'
        )
    if record.ungrouped:
        cards = "".join(_card(person) for person in record.ungrouped)
        parts.append(
            f"<div><strong>like no other</strong> ({len(record.ungrouped)} faces)</div>"
            f'<div class="cards">{cards}</div>'
        )
    parts.append("</section>")
    return "".join(parts)


def _refusals(record: DemoRecord) -> str:
    cards = "".join(
        f'<div class="refusal"><h3>{esc(shown.attempt)}</h3>{shown.html}</div>'
        for shown in record.refusals
    )
    withdrawal = "".join(f"<p>{esc(line)}</p>" for line in record.withdrawal)
    return (
        '<section id="refusals"><h2>5. Refusals</h2>'
        "<p>The guard refuses these calls before anything is sent to the service.</p>"
        f"{cards}{withdrawal}</section>"
    )


def _audit(record: DemoRecord) -> str:
    audit = record.audit
    if audit is None:
        return ""
    state = '<span class="ok">intact</span>' if audit.intact else '<span class="bad">BROKEN</span>'
    events = "; ".join(f"{name}: {count}" for name, count in sorted(audit.events.items()))
    rows = [
        ("records", esc(str(audit.records))),
        ("hash chain", state),
        ("what they record", esc(events)),
        ("last record's hash", f"<code>{esc(audit.head or '-')}</code>"),
        ("check it yourself", f"<code>faceguard audit verify {esc(str(audit.path))}</code>"),
    ]
    return (
        '<section id="audit"><h2>6. Audit trail</h2>'
        "<p>Every guard decision and every call sent, chained by SHA-256; subjects are kept "
        "as keyed pseudonyms, never images or faceIds.</p>" + _facts(rows) + "</section>"
    )


def _landmark_note(measured: frozenset[str] | None) -> str:
    if measured is None:
        return (
            "Landmarks: the face engine did not say which of the 27 it measured; this report "
            "does not guess."
        )
    names = ", ".join(sorted(measured))
    return (
        f"Landmarks: {len(measured)} of the 27 are measured by the detector ({names}); the "
        f"other {27 - len(measured)} are estimated from a mean-shape template fitted to "
        "them, so they follow the face's position, size and tilt, not its shape. In the "
        "detection picture the measured ones are the larger yellow dots."
    )


def _notes(record: DemoRecord) -> str:
    notes = [
        _NOT_A_PROBABILITY,
        _landmark_note(record.measured_landmarks),
        "The emulator's engine (OpenCV models) is not Azure's: its confidences and "
        "qualities show how the flow behaves, not how the service would score these photos.",
        "quality for recognition is a rule over the measured blur, exposure, noise, size and "
        "pose, not a separate model.",
    ]
    items = "".join(f"<li>{esc(text)}</li>" for text in notes)
    return f'<section id="notes"><h2>Notes</h2><ul class="notes">{items}</ul></section>'


_CONTENTS = (
    '<nav class="contents">'
    + " &middot; ".join(
        f'<a href="#{anchor}">{title}</a>'
        for anchor, title in (
            ("setup", "What ran"),
            ("detect", "1. Detect"),
            ("enroll", "2. Enroll"),
            ("identify", "3. Identify"),
            ("verify", "4. Verify and group"),
            ("refusals", "5. Refusals"),
            ("audit", "6. Audit trail"),
            ("notes", "Notes"),
        )
    )
    + "</nav>"
)


def render_report(record: DemoRecord) -> str:
    """The whole page, as one string of HTML with every picture inlined."""
    sections = [
        _setup(record),
        _detection(record),
        _gallery(record),
        _identify(record),
        _verify_and_group(record),
        _refusals(record),
        _audit(record),
        _notes(record),
    ]
    lead = (
        f"The whole guarded flow, run by faceguard {record.version} against the embedded "
        "emulator with real photos. Every picture and figure below comes from this run."
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>faceguard demo report</title><style>{_STYLE}</style></head><body><main>"
        f'<h1>faceguard demo report</h1><p class="lead">{esc(lead)}</p>{_CONTENTS}'
        + "".join(sections)
        + "</main></body></html>\n"
    )
