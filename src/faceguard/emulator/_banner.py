"""What ``faceguard emulator serve`` prints when it is ready: where the services are, which
key is accepted, and two lines to paste (curl and Python) that talk to it right away.

The key given with ``--key`` is never printed: the lines to paste name it as a placeholder.
"""

from __future__ import annotations

from ._emulator import SERVICE_PREFIXES

__all__ = ["KEY_HEADER", "banner"]

KEY_HEADER = "Ocp-Apim-Subscription-Key"
_ANY_KEY = "dummy"  # any key works; the word also passes `faceguard testing check-cassettes`
_PLACEHOLDER = "$FACEGUARD_KEY"


def banner(url: str, *, key_required: bool, state_dir: str | None = None) -> str:
    """The console text of a server ready at ``url`` (``http://127.0.0.1:5000``)."""
    face, content_safety = (url + prefix for prefix in SERVICE_PREFIXES)
    where = f" (state in {state_dir})" if state_dir else ""
    if key_required:
        key_line = (
            f"only the key given with --key is accepted, in the {KEY_HEADER} header "
            f"(the lines below read it from {_PLACEHOLDER})"
        )
        key = _PLACEHOLDER
        python_key = 'os.environ["FACEGUARD_KEY"]'
        python_import = "import os; "
    else:
        key_line = (
            f"any key is accepted, in the {KEY_HEADER} header (start with --key KEY to "
            "accept only KEY)"
        )
        key = _ANY_KEY
        python_key = f'"{_ANY_KEY}"'
        python_import = ""
    curl = f'curl -s -H "{KEY_HEADER}: {key}" {face}/persongroups'
    python = (
        f"{python_import}from faceguard import FaceClient; "
        f"client = FaceClient({url!r}, api_key={python_key})"
    )
    return "\n".join(
        [
            f"faceguard: emulator serving on {url}{where}; Ctrl-C stops it",
            f"  Face API v1.2:    {face}",
            f"  Content Safety:   {content_safety}",
            f"  Key:              {key_line}",
            f"  Try it (shell):   {curl}",
            f"  Try it (Python):  {python}",
            "",
        ]
    )
