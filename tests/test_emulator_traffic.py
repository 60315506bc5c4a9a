"""Random faults, the traffic log and the server-mode control routes of the emulator.

Random faults draw from a seeded generator, so every count below is exact for its seed; the
bands around them only say what the seed is meant to show (a rate near the one asked for).
Times come from a ``ManualClock``, in process and in server mode alike, except in the one
test that checks the TPS limit against the log under real concurrency.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from faceguard.__main__ import _parser, _script_faults, main
from faceguard.emulator import Emulator, ManualClock
from faceguard.emulator._server import EmulatorServer, running
from faceguard.emulator._traffic import DROPPED, Arrival, peak_of

LIST = "/face/v1.2/persongroups"
KEY = {"Ocp-Apim-Subscription-Key": "k"}
START = 1_700_000_000.0
FAULT_FLAGS = ("--tps", "1000", "--fault-rate", "1", "--fault-seed", "4")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=START)


@pytest.fixture
def emulator(clock: ManualClock) -> Emulator:
    return Emulator(clock=clock)


def outcomes(emulator: Emulator, count: int, path: str = LIST) -> list[int | str]:
    """``count`` GETs in process: each status, or ``"dropped"``."""
    found: list[int | str] = []
    with httpx.Client(transport=emulator.transport(), base_url="http://x", headers=KEY) as raw:
        for _ in range(count):
            try:
                found.append(raw.get(path).status_code)
            except httpx.TransportError:
                found.append("dropped")
    return found


def seeded_run(seed: int, count: int = 2000) -> list[int | str]:
    emulator = Emulator(clock=ManualClock(start=START))
    emulator.faults.seed(seed)
    emulator.faults.add("*", status=503, probability=0.1, times=None)
    return outcomes(emulator, count)


# -- random faults ------------------------------------------------------------------------------


@pytest.mark.parametrize("probability", [0, 0.0, -0.1, 1.5, float("nan"), True])
def test_a_probability_outside_0_to_1_is_refused(emulator: Emulator, probability: Any) -> None:
    with pytest.raises(ValueError, match="probability"):
        emulator.faults.add("*", status=503, probability=probability)
    assert emulator.faults.rules == []


def test_a_seeded_probability_fault_meets_about_that_share_and_repeats_exactly() -> None:
    first = seeded_run(7)
    again = seeded_run(7)
    other = seeded_run(8)

    faulted = first.count(503)
    assert first == again  # same seed, same request order: the same requests fail
    assert other != first
    assert 150 <= faulted <= 250  # 10% of 2000, for this seed
    assert set(first) == {200, 503}


def test_a_probability_fault_with_times_uses_a_time_only_when_met(emulator: Emulator) -> None:
    emulator.faults.seed(3)
    rule = emulator.faults.add("*", status=500, probability=0.2, times=3)

    found = outcomes(emulator, 100)

    assert found.count(500) == 3
    assert (rule.hits, rule.remaining) == (3, 0)
    # Escaped requests did not use up the times: the third fault came well after request 3.
    assert [i for i, s in enumerate(found) if s == 500][-1] > 3


def test_a_request_that_escapes_a_random_fault_meets_the_next_rule(emulator: Emulator) -> None:
    emulator.faults.seed(1)
    emulator.faults.add("*", status=503, probability=0.5, times=None)
    emulator.faults.add("*", status=500, times=None)

    found = Counter(outcomes(emulator, 200))

    assert set(found) == {500, 503}
    assert 70 <= found[503] <= 130


def test_probability_one_meets_every_request(emulator: Emulator) -> None:
    emulator.faults.add("*", status=503, probability=1.0, times=None)
    assert outcomes(emulator, 20) == [503] * 20


def test_the_fault_mix_splits_the_rate_evenly(emulator: Emulator) -> None:
    emulator.faults.seed(11)
    rules = emulator.faults.add_fault_mix(0.3)

    found = Counter(outcomes(emulator, 3000))

    assert [(r.status, r.drop, r.remaining) for r in rules] == [
        (429, None, None),
        (503, None, None),
        (None, "response", None),
    ]
    assert rules[0].retry_after == 1.0
    for kind in (429, 503, "dropped"):
        assert 240 <= found[kind] <= 360, found  # 10% each of 3000
    assert 2100 <= found[200] <= 2300
    assert sum(found.values()) == 3000


@pytest.mark.parametrize("rate", [0, -0.5, 1.01])
def test_the_fault_mix_refuses_a_rate_outside_0_to_1(emulator: Emulator, rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        emulator.faults.add_fault_mix(rate)


def test_a_full_fault_mix_fails_every_request(emulator: Emulator) -> None:
    emulator.faults.seed(5)
    emulator.faults.add_fault_mix(1.0)

    found = Counter(outcomes(emulator, 300))

    assert found[200] == 0
    assert min(found[429], found[503], found["dropped"]) >= 70


# -- the traffic log ----------------------------------------------------------------------------


def test_the_log_records_statuses_throttles_and_drops(
    emulator: Emulator, clock: ManualClock
) -> None:
    emulator.faults.set_tps_limit(2)
    assert outcomes(emulator, 3) == [200, 200, 429]
    clock.advance(1.0)
    emulator.faults.set_tps_limit(None)
    emulator.faults.add(LIST, drop=True)
    emulator.faults.add(LIST, drop="connect")
    emulator.faults.add(LIST, status=503)
    assert outcomes(emulator, 3) == ["dropped", "dropped", 503]
    outcomes(emulator, 1, "/face/v1.2/nowhere")
    with httpx.Client(transport=emulator.transport(), base_url="http://x") as raw:
        assert raw.get(LIST).status_code == 401  # no key: still a service request
        assert raw.get("/_emulator/traffic").status_code == 200  # control: not recorded

    log = emulator.faults.traffic()

    assert [(a.status, a.throttled, a.faulted) for a in log] == [
        (200, False, False),
        (200, False, False),
        (429, True, False),
        ("dropped", False, False),  # dropped after handling: the service let it in
        ("dropped", False, True),  # refused connection: it never got in
        (503, False, True),
        (404, False, False),
        (401, False, False),
    ]
    assert log[0] == Arrival(at=START, method="GET", path=LIST, status=200)
    assert [a.at for a in log] == [START] * 3 + [START + 1.0] * 5
    assert emulator.faults.peak() == 5
    assert emulator.faults.peak(accepted_only=True) == 3
    assert emulator.faults.peak(10.0, accepted_only=True) == 5

    emulator.faults.clear_traffic()
    assert emulator.faults.traffic() == []
    assert emulator.faults.peak() == 0


def test_peak_counts_half_open_windows_over_hand_made_times() -> None:
    assert peak_of([]) == 0
    assert peak_of([0.0, 0.5, 1.0]) == 2  # 1.0 is outside [0, 1)
    assert peak_of([0.0, 0.5, 0.999]) == 3
    assert peak_of([3.0, 0.0, 2.5, 0.2, 2.9, 2.95]) == 4  # unsorted input
    assert peak_of([0.0, 0.5, 1.0], window=2.0) == 3
    for window in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="window"):
            peak_of([0.0], window)


def test_peak_slides_over_arrivals_on_the_emulator_clock(
    emulator: Emulator, clock: ManualClock
) -> None:
    outcomes(emulator, 3)  # at 0
    clock.advance(0.5)
    outcomes(emulator, 2)  # at 0.5
    clock.advance(0.5)
    outcomes(emulator, 4)  # at 1.0: outside [0, 1), inside [0.5, 1.5)
    clock.advance(1.0)
    outcomes(emulator, 1)  # at 2.0

    assert emulator.faults.peak() == 6
    assert emulator.faults.peak(0.5) == 4
    assert emulator.faults.peak(1.5) == 9
    assert emulator.faults.peak(60) == 10


def test_accepted_only_leaves_out_what_the_tps_limit_refused(
    emulator: Emulator, clock: ManualClock
) -> None:
    emulator.faults.set_tps_limit(3)
    for _ in range(4):
        outcomes(emulator, 5)
        clock.advance(0.25)

    statuses = Counter(a.status for a in emulator.faults.traffic())

    # Each second admits 3 of the 20 sent over the first second, then a second window opens.
    assert emulator.faults.peak() == 20
    assert emulator.faults.peak(accepted_only=True) == 3
    assert statuses == {200: 3, 429: 17}
    assert emulator.faults.throttled == 17


def test_accepted_requests_never_exceed_the_limit_with_random_faults(
    emulator: Emulator, clock: ManualClock
) -> None:
    emulator.faults.seed(2)
    emulator.faults.add_fault_mix(0.5)
    emulator.faults.set_tps_limit(4)
    for _ in range(20):
        outcomes(emulator, 6)
        clock.advance(0.3)

    log = emulator.faults.traffic()

    assert emulator.faults.peak(accepted_only=True) == 4
    assert emulator.faults.peak() == 24
    assert any(a.faulted for a in log)
    assert any(a.throttled for a in log)
    assert all(a.status == 200 or a.status == DROPPED for a in log if a.accepted)


def test_the_log_agrees_with_the_tps_limit_under_concurrency() -> None:
    emulator = Emulator()  # the real clock: threads race for the window
    emulator.faults.set_tps_limit(5)

    with running(emulator) as server:

        def burst() -> None:
            with httpx.Client(base_url=server.url, headers=KEY) as raw:
                for _ in range(8):
                    raw.get(LIST)

        threads = [threading.Thread(target=burst) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    log = emulator.faults.traffic()
    assert len(log) == 48
    assert sum(1 for a in log if a.status == 200) >= 5
    assert emulator.faults.peak(accepted_only=True) <= 5
    assert any(a.throttled for a in log)


def test_the_log_is_bounded() -> None:
    from faceguard.emulator._traffic import TrafficLog

    log = TrafficLog(maxlen=3)
    for at in range(5):
        log.record(Arrival(at=float(at), method="GET", path=LIST, status=200))

    assert [a.at for a in log.arrivals()] == [2.0, 3.0, 4.0]


# -- control routes over HTTP -------------------------------------------------------------------


@pytest.fixture
def served(emulator: Emulator) -> Iterator[tuple[EmulatorServer, httpx.Client]]:
    with running(emulator) as server, httpx.Client(base_url=server.url, headers=KEY) as raw:
        yield server, raw


def test_faults_scripted_over_http(served: tuple[EmulatorServer, httpx.Client]) -> None:
    server, raw = served

    added = raw.post("/_emulator/faults", json={"status": 429, "retry_after": 1, "times": 2})
    second = raw.post("/_emulator/faults", json={"route": LIST, "status": 503, "times": 1})
    listed = raw.get("/_emulator/faults").json()["rules"]
    answers = [raw.get(LIST) for _ in range(4)]

    assert (added.status_code, added.json()) == (201, {"index": 0, "rules": 1})
    assert (second.status_code, second.json()) == (201, {"index": 1, "rules": 2})
    assert [r["status"] for r in listed] == [429, 503]
    assert [a.status_code for a in answers] == [429, 429, 503, 200]
    assert answers[0].headers["Retry-After"] == "1"
    assert [r.hits for r in server.emulator.faults.rules] == [2, 1]

    assert raw.delete("/_emulator/faults").status_code == 204
    assert server.emulator.faults.rules == []


def test_a_random_fault_over_http_repeats_with_its_seed() -> None:
    def run() -> list[int]:
        with (
            running(Emulator(clock=ManualClock(start=START))) as server,
            httpx.Client(base_url=server.url, headers=KEY) as raw,
        ):
            body = {"status": 503, "probability": 0.3, "times": None, "seed": 42}
            assert raw.post("/_emulator/faults", json=body).status_code == 201
            return [raw.get(LIST).status_code for _ in range(60)]

    first = run()

    assert first == run()
    assert 8 <= first.count(503) <= 30


def test_a_dropped_connection_over_http_is_logged(
    served: tuple[EmulatorServer, httpx.Client],
) -> None:
    _server, raw = served
    assert raw.post("/_emulator/faults", json={"drop": True}).status_code == 201

    with pytest.raises(httpx.TransportError):
        raw.get(LIST)
    assert raw.get(LIST).status_code == 200

    assert raw.post("/_emulator/faults", json={"status": 503}).status_code == 201
    assert raw.get(LIST).status_code == 503

    summary = raw.get("/_emulator/traffic").json()
    assert summary["statuses"] == {"200": 1, "503": 1, "dropped": 1}
    assert (summary["dropped"], summary["faulted"], summary["throttled"]) == (1, 1, 0)
    assert (summary["peak"], summary["peak_accepted"]) == (3, 2)


def test_the_tps_limit_and_traffic_over_http(
    served: tuple[EmulatorServer, httpx.Client], clock: ManualClock
) -> None:
    _server, raw = served

    limited = raw.put("/_emulator/tps", json={"tps": 2})
    first = [raw.get(LIST).status_code for _ in range(3)]
    clock.advance(1.0)
    second = [raw.get(LIST).status_code for _ in range(3)]
    summary = raw.get("/_emulator/traffic", params={"window": "1.0"}).json()
    wide = raw.get("/_emulator/traffic", params={"window": 5, "full": 1}).json()

    assert (limited.status_code, limited.json()) == (200, {"tps": 2})
    assert first == second == [200, 200, 429]
    assert summary == {
        "count": 6,
        "window": 1.0,
        "peak": 3,
        "peak_accepted": 2,
        "throttled": 2,
        "faulted": 0,
        "dropped": 0,
        "statuses": {"200": 4, "429": 2},
        "first": START,
        "last": START + 1.0,
    }
    assert (wide["peak"], wide["peak_accepted"]) == (6, 4)
    assert [a["status"] for a in wide["arrivals"]] == [200, 200, 429] * 2
    assert wide["arrivals"][2] == {
        "at": START,
        "method": "GET",
        "path": LIST,
        "status": 429,
        "throttled": True,
        "faulted": False,
    }

    assert raw.put("/_emulator/tps", json={"tps": None}).status_code == 200
    assert [raw.get(LIST).status_code for _ in range(3)] == [200] * 3
    assert raw.delete("/_emulator/traffic").status_code == 204
    emptied = raw.get("/_emulator/traffic").json()
    assert (emptied["count"], emptied["first"], emptied["last"]) == (0, None, None)


def test_deleting_the_faults_removes_the_tps_limit(
    served: tuple[EmulatorServer, httpx.Client],
) -> None:
    _server, raw = served
    raw.put("/_emulator/tps", json={"tps": 1})
    assert [raw.get(LIST).status_code for _ in range(2)] == [200, 429]

    assert raw.delete("/_emulator/faults").status_code == 204
    assert [raw.get(LIST).status_code for _ in range(2)] == [200, 200]


@pytest.mark.parametrize(
    ("route", "body", "words"),
    [
        ("/_emulator/faults", b"not json", "not JSON"),
        ("/_emulator/faults", b"[1]", "JSON object"),
        ("/_emulator/faults", {"route": "*"}, "needs status"),
        ("/_emulator/faults", {"status": "429"}, "'status' must be an integer"),
        ("/_emulator/faults", {"status": 429, "probability": 2}, "probability"),
        ("/_emulator/faults", {"status": 429, "probability": "0.1"}, "'probability'"),
        ("/_emulator/faults", {"status": 429, "colour": "red"}, "unknown member(s) colour"),
        ("/_emulator/faults", {"drop": "later"}, "'drop'"),
        ("/_emulator/faults", {"status": 429, "times": 0}, "times"),
        ("/_emulator/faults", {"status": 200}, "400..599"),
        ("/_emulator/faults", {"status": 503, "seed": "x"}, "'seed'"),
        ("/_emulator/tps", {"tps": 0}, "at least 1"),
        ("/_emulator/tps", {}, "'tps' is required"),
        ("/_emulator/tps", {"tps": 1.5}, "'tps' must be an integer"),
        ("/_emulator/tps", {"tps": 3, "routes": "*"}, "'routes'"),
    ],
)
def test_a_bad_control_body_is_a_400_that_says_why(
    served: tuple[EmulatorServer, httpx.Client], route: str, body: Any, words: str
) -> None:
    server, raw = served
    method = "POST" if route.endswith("faults") else "PUT"
    content = body if isinstance(body, bytes) else None
    response = raw.request(method, route, content=content, json=None if content else body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in ("InvalidFault", "InvalidTps")
    assert words in error["message"]
    assert server.emulator.faults.rules == []
    assert [raw.get(LIST).status_code for _ in range(2)] == [200, 200]  # no limit either


@pytest.mark.parametrize("window", ["abc", "0", "-1", "nan"])
def test_a_bad_traffic_window_is_a_400(
    served: tuple[EmulatorServer, httpx.Client], window: str
) -> None:
    _server, raw = served
    response = raw.get("/_emulator/traffic", params={"window": window})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidWindow"


def test_the_control_routes_need_the_servers_key() -> None:
    with running(Emulator(clock=ManualClock(start=START)), key="right") as server:
        refused = httpx.post(
            server.url + "/_emulator/faults",
            json={"status": 503},
            headers={"Ocp-Apim-Subscription-Key": "wrong"},
        )
        allowed = httpx.put(
            server.url + "/_emulator/tps",
            json={"tps": 5},
            headers={"Ocp-Apim-Subscription-Key": "right"},
        )

        assert refused.status_code == 401
        assert server.emulator.faults.rules == []
        assert allowed.status_code == 200


# -- the command line ---------------------------------------------------------------------------


def test_the_serve_flags_parse_and_script_the_faults(clock: ManualClock) -> None:
    args = _parser().parse_args(
        ["emulator", "serve", "--tps", "2", "--fault-rate", "0.3", "--fault-seed", "9"]
    )
    assert (args.tps, args.fault_rate, args.fault_seed) == (2, 0.3, 9)

    def scripted() -> list[int | str]:
        emulator = Emulator(clock=clock)
        _script_faults(emulator, args)
        assert [(r.status, r.drop) for r in emulator.faults.rules] == [
            (429, None),
            (503, None),
            (None, "response"),
        ]
        return outcomes(emulator, 40)

    first = scripted()
    assert first == scripted()  # --fault-seed
    assert first.count(200) <= 2  # --tps 2 on a clock that stands still
    assert first.count(429) >= 20  # the limit's, beyond the scripted 429s
    assert {503, "dropped"} <= set(first)  # --fault-rate


def test_without_fault_flags_nothing_is_scripted(emulator: Emulator) -> None:
    _script_faults(emulator, _parser().parse_args(["emulator", "serve"]))

    assert emulator.faults.rules == []
    assert outcomes(emulator, 5) == [200] * 5


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--fault-rate", "1.5"], "--fault-rate"),
        (["--fault-rate", "-0.1"], "--fault-rate"),
        (["--tps", "0"], "--tps"),
    ],
)
def test_bad_fault_flags_exit_2(
    flags: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["emulator", "serve", "--port", "0", *flags]) == 2
    assert words in capsys.readouterr().err


def test_the_fault_flags_are_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["emulator", "serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())

    assert "--tps N" in text
    assert "--fault-rate P" in text
    assert "--fault-seed S" in text
    assert "503" in text


@pytest.mark.skipif(os.name != "posix", reason="stops the server with SIGINT")
def test_the_cli_serves_random_faults_to_another_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "faceguard", "emulator", "serve", "--port", "0", *FAULT_FLAGS],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            found = re.search(r"serving on (http://\S+?)[; ]", process.stderr.readline())
            url = found.group(1) if found else None
        assert url is not None, "the emulator did not start"
        with httpx.Client(base_url=url, headers=KEY) as raw:
            for _ in range(30):
                with contextlib.suppress(httpx.TransportError):
                    raw.get(LIST)
            summary = raw.get("/_emulator/traffic").json()
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)
        if process.stderr is not None:
            process.stderr.close()

    assert code == 0
    assert summary["count"] == 30
    assert "200" not in summary["statuses"]
    assert set(summary["statuses"]) <= {"429", "503", "dropped"}
    assert len(summary["statuses"]) == 3
