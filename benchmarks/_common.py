"""Helpers shared by the benchmarks: the machine, statistics, tables, and throwaway servers.

Also the tiny interface between ``run_all.py`` and each benchmark module (see ``Row`` and
``run_all.py``): a benchmark module ``bench_<name>.py`` that takes part in the one command has

* ``runner_args(quick: bool) -> list[str]``: the command-line arguments ``run_all.py`` gives
  it (``quick`` shrinks every size for a smoke run);
* a ``--json PATH`` option that writes all its figures to ``PATH`` as one JSON document;
* ``summary_rows(results: dict) -> list[Row]``: the lines of the summary table, computed
  from that JSON document only (no measuring).

``run_all.py`` runs each module as ``python benchmarks/bench_<name>.py ... --json PATH`` in
its own process, then imports it only to call ``summary_rows``.

Only the standard library is imported here, so the runner stays light.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent

PACKAGES = (
    "faceguard",
    "httpx",
    "httpcore",
    "pydantic",
    "pydantic-core",
    "azure-ai-vision-face",
    "azure-core",
    "redis",
)


# -- the summary table's rows ------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the summary table.

    ``ratio`` is faceguard's figure divided by the other side's (or any ratio the row is
    about); ``target`` is the bound it must meet, ``target_op`` says which way. A row without
    a target is a figure for information (``verdict`` is then empty).
    """

    benchmark: str
    measure: str
    figures: str
    ratio: float | None = None
    target: float | None = None
    target_op: Literal["<=", ">="] = "<="
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if self.ratio is None:
            return "n/a"
        met = self.ratio <= self.target if self.target_op == "<=" else self.ratio >= self.target
        return "pass" if met else "MISS"

    @property
    def target_text(self) -> str:
        return "" if self.target is None else f"{self.target_op} {self.target:g}x"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Row:
        return cls(**data)


ROW_HEADERS = ("benchmark", "measure", "figures", "ratio", "target", "verdict")


def row_cells(row: Row) -> list[str]:
    ratio = "" if row.ratio is None else f"{row.ratio:.2f}x"
    if row.target is not None and row.ratio is None:
        ratio = "n/a"
    figures = row.figures + (f" ({row.note})" if row.note else "")
    return [row.benchmark, row.measure, figures, ratio, row.target_text, row.verdict]


# -- statistics ----------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median; raises ``ValueError`` on no values."""
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def iqr(values: Sequence[float]) -> float:
    """Interquartile range (inclusive quartiles); 0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return float(q3 - q1)


def paired_median_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median over pairs of a[i] / b[i]: each pair measured side by side."""
    if len(a) != len(b) or not a:
        raise ValueError("paired ratios need two equally long, non-empty series")
    return median([x / y for x, y in zip(a, b, strict=True)])


# -- tables --------------------------------------------------------------------------------------


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, markdown: bool = False
) -> str:
    """A plain-text table (columns padded, a rule under the header) or a Markdown one.

    Columns whose every cell (header aside) looks like a number are right-aligned.
    """
    width = len(headers)
    for row in rows:
        if len(row) != width:
            raise ValueError(f"row of {len(row)} cells under {width} headers: {row!r}")

    def numeric(column: int) -> bool:
        cells = [r[column] for r in rows if r[column]]
        return bool(cells) and all(_looks_numeric(c) for c in cells)

    right = [numeric(i) for i in range(width)]
    if markdown:

        def escape(cell: str) -> str:
            return cell.replace("|", "\\|")

        lines = ["| " + " | ".join(escape(h) for h in headers) + " |"]
        lines.append("| " + " | ".join("---:" if r else "---" for r in right) + " |")
        lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
        return "\n".join(lines)
    sizes = [max([len(headers[i])] + [len(r[i]) for r in rows]) for i in range(width)]

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(sizes[i]) if right[i] else c.ljust(sizes[i]) for i, c in enumerate(cells)]
        return "  ".join(padded).rstrip()

    out = [line(headers), "  ".join("-" * s for s in sizes)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def _looks_numeric(cell: str) -> bool:
    text = cell.strip().rstrip("x%").replace(",", "").replace("_", "")
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- the machine ---------------------------------------------------------------------------------


def package_version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def redis_server_version(executable: str | None = None) -> str | None:
    """``redis-server --version``'s ``v=`` field, or None when there is no redis-server."""
    executable = executable or shutil.which("redis-server")
    if executable is None:
        return None
    try:
        out = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, check=False, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.split("v=", 1)[1].split()[0] if "v=" in out else (out.strip() or None)


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def _ram_bytes() -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(ValueError, OSError, AttributeError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return None


def _os_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    return platform.system()


def _git_revision() -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        return done.stdout.strip() or None
    return None


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    load: list[float] | None = None
    with contextlib.suppress(OSError, AttributeError):
        load = [round(x, 2) for x in os.getloadavg()]
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "ram_bytes": _ram_bytes(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": _os_name(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "redis_server": redis_server_version(),
        "packages": {name: package_version(name) for name in PACKAGES},
        "revision": _git_revision(),
        "load_average": load,
    }


def describe_machine(info: dict[str, Any]) -> list[str]:
    """``machine()`` as a few lines of text."""
    ram = info.get("ram_bytes")
    ram_text = f"{ram / 2**30:.1f} GiB RAM" if ram else "RAM unknown"
    cpus = f"{info.get('logical_cpus')} logical CPUs"
    if info.get("usable_cpus") not in (None, info.get("logical_cpus")):
        cpus += f" ({info['usable_cpus']} usable)"
    packages = ", ".join(f"{k} {v or 'not installed'}" for k, v in info["packages"].items())
    return [
        f"CPU: {info['cpu_model']}, {cpus}, {ram_text}",
        f"OS: {info['os']} ({info['platform']})",
        f"Python: {info['python']}; SQLite {info['sqlite']}; "
        f"redis-server {info.get('redis_server') or 'not available'}",
        f"Packages: {packages}",
        f"faceguard revision: {info.get('revision') or 'unknown'}; "
        f"load average at start: {info.get('load_average')}",
    ]


# -- processes and ports -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_bytes() -> int | None:
    """This process's resident set size now (Linux ``/proc/self/statm``), or None."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    return None


@dataclass
class EmulatorProcess:
    """``python -m faceguard emulator serve`` on a free loopback port, in a child process
    (so the server's CPU is not the benchmark's)."""

    key: str
    extra_args: Sequence[str] = ()
    """More ``serve`` options, e.g. ``("--tps", "10", "--fault-rate", "0.1")``."""
    url: str = ""
    process: subprocess.Popen[str] | None = field(default=None, repr=False)

    def start(self, timeout: float = 60.0) -> EmulatorProcess:
        command = [
            sys.executable,
            "-m",
            "faceguard",
            "emulator",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--key",
            self.key,
            *self.extra_args,
        ]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        seen: list[str] = []
        found: list[str] = []

        def read(stream: Any) -> None:
            # Keep draining stderr for the server's whole life, so it never blocks on a pipe.
            for line in stream:
                if not found and "serving on " in line:
                    found.append(line.split("serving on ", 1)[1].split(";", 1)[0].split()[0])
                elif not found:
                    seen.append(line)

        threading.Thread(target=read, args=(self.process.stderr,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator server did not start: {''.join(seen)!r}")
            time.sleep(0.02)
        self.url = found[0]
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)  # serve_forever ends on KeyboardInterrupt
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@dataclass
class RedisServer:
    """A private redis-server on a loopback port, in its own temp dir, without persistence."""

    executable: str
    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, attempts: int = 5) -> None:
        for _ in range(attempts):
            self.port = _free_port()
            log = self.directory / "redis.log"
            self.process = subprocess.Popen(
                [
                    self.executable,
                    "--port", str(self.port),
                    "--bind", "127.0.0.1",
                    "--dir", str(self.directory),
                    "--save", "",
                    "--appendonly", "no",
                    "--daemonize", "no",
                    "--logfile", str(log),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._ready(timeout=10.0):
                return
            self.stop()  # lost the port to someone else, most likely: try another one
        raise RuntimeError(f"redis-server did not start (see {self.directory / 'redis.log'})")

    def _ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return True
            time.sleep(0.05)
        return False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def version(self) -> str:
        out = subprocess.run(
            [self.executable, "--version"], capture_output=True, text=True, check=False
        ).stdout
        return out.split("v=", 1)[1].split()[0] if "v=" in out else out.strip()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def throwaway_redis(directory: Path, executable: str | None = None) -> Iterator[RedisServer | None]:
    """A ``RedisServer`` started in ``directory`` and stopped on exit; None when there is no
    ``redis-server`` (on PATH, or at ``executable``)."""
    executable = executable or shutil.which("redis-server")
    if executable is None or not Path(executable).exists():
        yield None
        return
    directory.mkdir(parents=True, exist_ok=True)
    server = RedisServer(executable, directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
