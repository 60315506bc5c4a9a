"""Open a page in headless Chromium and ask it what a reader's browser would see.

Debian's ``chromium`` speaks the DevTools protocol over a pipe (``--remote-debugging-pipe``:
JSON messages separated by NUL bytes, the browser reading fd 3 and writing fd 4), so no
WebSocket library and no browser download is needed. ``inspect_page`` loads a file, waits
for its load event, collects every console message, log entry and uncaught exception, and
reports each image's ``naturalWidth`` (0 when it failed to load or decode).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PageReport", "chromium_path", "inspect_page"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str | None:
    """The Chromium executable on PATH, or None."""
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageReport:
    images: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Console errors, browser log entries of level error (a resource that failed to load, a
    blocked request), uncaught exceptions. Warnings are left out: their wording and number
    change between Chromium versions, and no image or script failure is only a warning."""
    title: str = ""


class _Pipe:
    def __init__(self, write_fd: int, read_fd: int, deadline: float) -> None:
        self._write, self._read, self._deadline = write_fd, read_fd, deadline
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive()
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = self._deadline - time.monotonic()
            readable, _, _ = select.select([self._read], [], [], max(0.0, left))
            if not readable:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message


def _problems(events: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"])
            found.append(f"console.{params['type']}: {text}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"log {params['entry']['level']}: {params['entry'].get('text')}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails'].get('text')}")
    return found


_IMAGES = """JSON.stringify({
  title: document.title,
  images: Array.from(document.images).map(img => ({
    alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth,
    naturalHeight: img.naturalHeight, src: img.getAttribute('src').slice(0, 30)}))
})"""


def _reap(pid: int, grace: float) -> None:
    """Wait for the browser to exit (it does once its pipe closes); kill it after ``grace``."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _high(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


def inspect_page(page: Path, *, timeout: float = 60.0) -> PageReport:
    """Load ``page`` in headless Chromium; its images and every problem the browser logged."""
    executable = chromium_path()
    if executable is None:
        raise FileNotFoundError("chromium is not installed")
    # Numbered above 4, so that placing them at 3 and 4 in the child cannot clobber one
    # with the other.
    to_browser_r, to_browser_w = map(_high, os.pipe())
    from_browser_r, from_browser_w = map(_high, os.pipe())

    with tempfile.TemporaryDirectory(prefix="fg-chromium-") as profile:
        # posix_spawn places the pipes at fds 3 and 4 without running Python in the child
        # (a preexec_fn can deadlock in a process with threads); every other descriptor is
        # close-on-exec already (PEP 446).
        pid = os.posix_spawn(
            executable,
            [
                executable,
                "--headless",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "--no-sandbox",  # CI containers run as root, where the sandbox cannot start
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "about:blank",
            ],
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, to_browser_r, 3),
                (os.POSIX_SPAWN_DUP2, from_browser_w, 4),
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        pipe = _Pipe(to_browser_w, from_browser_r, time.monotonic() + timeout)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
                pipe.send(domain, session=session)
            pipe.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
            pipe.wait_for("Page.loadEventFired")
            result = pipe.send(
                "Runtime.evaluate",
                {"expression": _IMAGES, "returnByValue": True, "awaitPromise": True},
                session=session,
            )
            seen = json.loads(result["result"]["value"])
            with contextlib.suppress(RuntimeError):  # it may close the pipe before answering
                pipe.send("Browser.close")
        finally:
            os.close(to_browser_w)
            os.close(from_browser_r)
            _reap(pid, grace=10.0)
    return PageReport(images=seen["images"], problems=_problems(pipe.events), title=seen["title"])
