"""A Content Safety text blocklist: create it, add terms, screen messages, clean up.

Exact terms match whole words, case-insensitively; a regex term matches as written. Harm
categories (hate, self-harm, sexual, violence) are scored by the service's models; the emulator
cannot measure them, so here they are scripted (``emulator.content_safety.script_severity``).
Content Safety is not a limited-access Face feature: no use case or consent token applies.

Runs on the offline emulator by default; to use your Azure resource instead, set both
``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY`` (or ``FACEGUARD_CONTENT_SAFETY_ENDPOINT`` and
``FACEGUARD_CONTENT_SAFETY_API_KEY`` for a separate Content Safety resource, with the first
two set). The example deletes its blocklist at the end. Needs ``faceguard[emulator]``.

Run from the repository root: ``python examples/content_safety_blocklist.py``
"""

from __future__ import annotations

from _common import Backend

from faceguard.models.content_safety import TextBlocklistItemInput

BLOCKLIST = "example-marketplace-spam"
MESSAGES = [
    "Is the bike still available? I can pick it up on Saturday.",
    "FREE GIFT CARD for everyone who replies!",
    "Message me on WhatsApp at +1 555 0100 for a better price",
]
SEVERE = 4  # block at medium severity and above: the operator's policy


def main() -> None:
    backend = Backend()
    print(f"content safety blocklist on {backend.name}")
    if backend.emulator is not None:  # severities are the service's measurement, scripted here
        for category in ("Hate", "SelfHarm", "Sexual", "Violence"):
            backend.emulator.content_safety.script_severity(category, 0)

    with backend.content_safety_client() as client:
        client.blocklists.create_or_update(BLOCKLIST, description="Marketplace spam")
        try:
            added = client.blocklists.add_or_update_items(
                BLOCKLIST,
                [
                    "free gift card",
                    TextBlocklistItemInput(
                        text=r"(?i)whats\s*app", is_regex=True, description="off-platform"
                    ),
                ],
            )
            print(f"{len(added.blocklist_items)} terms in {BLOCKLIST}")

            for message in MESSAGES:
                result = client.analyze_text(message, blocklist_names=[BLOCKLIST])
                hits = [m.blocklist_item_text for m in result.blocklists_match or []]
                worst = max((c.severity or 0 for c in result.categories_analysis), default=0)
                verdict = "blocked" if hits or worst >= SEVERE else "allowed"
                reason = f" by {' + '.join(hits)}" if hits else ""
                print(f"  {verdict}{reason}: {message!r}")

            terms = list(client.blocklists.list_items(BLOCKLIST))
            client.blocklists.remove_items(BLOCKLIST, [terms[0].blocklist_item_id])
            left = len(list(client.blocklists.list_items(BLOCKLIST)))
            print(f"removed {terms[0].text!r}; {left} term(s) left")
        finally:
            client.blocklists.delete(BLOCKLIST)


if __name__ == "__main__":
    main()
