"""The token bucket's arithmetic: one pure function, shared by every store.

The bucket is a GCRA (generic cell rate algorithm) bucket with reservations. Its whole state
is three numbers:

- ``tat``, the *theoretical arrival time*: when the bucket would be full again if nothing
  else were sent. A request may go at ``tat - tolerance``, where the tolerance
  ``(burst - 1) / rate`` is the burst allowance; sending pushes ``tat`` one emission
  interval (``1 / rate``) further.
- ``low`` and ``since``: the adaptive part. Repeated 429s from the service lower the rate
  to ``low`` at time ``since``; the rate then climbs linearly back to the configured rate
  over ``recovery`` seconds (additive increase, multiplicative decrease).
- ``first`` and ``count``: the 429s seen within ``hold`` seconds of the ``first`` one. A lone
  429 is a blip (a slot the service counted twice, another caller's burst); ``threshold``
  of them within ``hold`` seconds is the service saying the rate is too high.

Reservations, not polling: ``reserve`` answers *how long to wait* and books the slot at once,
so N waiting callers (threads, tasks, processes, machines) are spaced exactly ``1 / rate``
apart without any retry loop or lock held while sleeping. A caller that would have to wait
longer than ``max_wait`` books nothing and is refused.

``MemoryStore`` and ``SQLiteStore`` run ``apply`` under their lock or write transaction;
``RedisStore`` runs ``BUCKET_LUA``, the same arithmetic on the server's clock (a test checks
that both give the same answers for the same inputs).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Literal

from .._exceptions import InvalidInputError

__all__ = [
    "BUCKET_LUA",
    "AdaptiveRate",
    "BucketCommand",
    "BucketReply",
    "BucketState",
    "apply",
    "decode_state",
    "encode_state",
]


def _finite(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` (wrong type, NaN, infinite, or an int too
    large for a float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class AdaptiveRate:
    """How the limiter reacts to the service's 429 answers (AIMD).

    Args:
        decrease: the rate is multiplied by this on a 429 (0 < decrease <= 1).
        floor: the rate never falls below this fraction of the configured rate.
        recovery: seconds for the rate to climb linearly back to the configured rate.
        hold: 429s within this many seconds of the last decrease count as the same event, so
            that 64 requests throttled together lower the rate once, not 64 times.
        threshold: how many 429s within ``hold`` seconds lower the rate; 1 reacts to every
            429, 2 (the default) ignores a lone one. Every 429 spends the burst credit.
    """

    decrease: float = 0.9
    floor: float = 0.1
    recovery: float = 5.0
    hold: float = 1.0
    threshold: int = 2

    def __post_init__(self) -> None:
        # InvalidInputError: a ValueError, and a FaceGuardError whatever the wrong value is.
        decrease, floor = _finite(self.decrease), _finite(self.floor)
        if decrease is None or not 0.0 < decrease <= 1.0:
            raise InvalidInputError(
                "decrease", "range", "AdaptiveRate.decrease must be within (0, 1]"
            )
        if floor is None or not 0.0 < floor <= 1.0:
            raise InvalidInputError("floor", "range", "AdaptiveRate.floor must be within (0, 1]")
        recovery, hold = _finite(self.recovery), _finite(self.hold)
        if recovery is None or recovery <= 0:
            raise InvalidInputError(
                "recovery", "range", "AdaptiveRate.recovery must be a positive number of seconds"
            )
        if hold is None or hold < 0:
            raise InvalidInputError("hold", "range", "AdaptiveRate.hold must not be negative")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int):
            raise InvalidInputError(
                "threshold", "type", "AdaptiveRate.threshold must be a whole number of 429s"
            )
        if self.threshold < 1:
            raise InvalidInputError(
                "threshold", "range", "AdaptiveRate.threshold must be at least 1"
            )


@dataclass(frozen=True)
class BucketCommand:
    """One request to a bucket: book a slot (``reserve``), report a 429 (``throttled``), or
    read the wait and rate without changing anything (``peek``)."""

    op: Literal["reserve", "throttled", "peek"]
    rate: float
    """The configured rate, in requests per second."""
    burst: float
    """How many requests may go back to back after an idle period (at least 1)."""
    max_wait: float = math.inf
    """``reserve`` books nothing when the wait would be longer than this."""
    adaptive: AdaptiveRate | None = None


@dataclass(frozen=True)
class BucketState:
    """What a store keeps per bucket: three floats on the store's clock."""

    tat: float
    low: float = 0.0
    """The rate right after the last decrease (0: never decreased)."""
    since: float = -math.inf
    """When the last decrease happened."""
    first: float = -math.inf
    """When the first 429 of the current ``hold`` window came."""
    count: int = 0
    """429s since ``first``."""


@dataclass(frozen=True)
class BucketReply:
    """The bucket's answer: whether a slot was booked, the wait before it, the rate used."""

    granted: bool
    wait: float
    rate: float


def effective_rate(state: BucketState | None, command: BucketCommand, now: float) -> float:
    """The rate in force at ``now``: the configured one, or a recovering lowered one."""
    adaptive = command.adaptive
    if adaptive is None or state is None or state.low <= 0.0:
        return command.rate
    # A clock read just before ``since`` (stores round times to microseconds; another
    # process's clock) counts as no progress yet.
    progress = max(0.0, (now - state.since) / adaptive.recovery)
    if progress >= 1.0:
        return command.rate
    low = min(state.low, command.rate)
    return low + (command.rate - low) * progress


def apply(
    state: BucketState | None, command: BucketCommand, now: float
) -> tuple[BucketState | None, BucketReply]:
    """Run ``command`` on ``state`` at time ``now``: (the new state, the reply).

    The new state is ``None`` only when ``state`` was ``None`` and nothing was booked.
    """
    rate = effective_rate(state, command, now)
    interval = 1.0 / rate
    tolerance = (command.burst - 1.0) * interval
    tat = now if state is None else state.tat
    if command.op != "throttled":
        wait = max(0.0, tat - tolerance - now)
        # 1 µs of slack: stores keep times to the microsecond.
        if command.op == "peek" or wait > command.max_wait + 1e-6:
            return state, BucketReply(granted=False, wait=wait, rate=rate)
        booked = BucketState(tat=max(tat, now) + interval)
        if state is not None:
            booked = replace(state, tat=booked.tat)
        return booked, BucketReply(granted=True, wait=wait, rate=rate)
    # A 429: the rate is lowered unless a decrease already happened within ``hold`` seconds,
    # and the burst credit is spent (the next request may go now, the ones after it are
    # spaced at the new rate).
    current = state or BucketState(tat=now)
    adaptive = command.adaptive
    if adaptive is not None:
        if now - current.first > adaptive.hold:
            current = replace(current, first=now, count=1)
        else:
            current = replace(current, count=current.count + 1)
        if current.count >= adaptive.threshold and now - current.since >= adaptive.hold:
            low = max(command.rate * adaptive.floor, rate * adaptive.decrease)
            current = replace(current, low=low, since=now)
            rate = low
    tolerance = (command.burst - 1.0) / rate
    current = replace(current, tat=max(current.tat, now + tolerance))
    return current, BucketReply(granted=False, wait=0.0, rate=rate)


def encode_state(state: BucketState) -> bytes:
    """The bytes a key-value store keeps for a bucket."""
    since = state.since if math.isfinite(state.since) else None
    first = state.first if math.isfinite(state.first) else None
    fields = [state.tat, state.low, since, first, state.count]
    return json.dumps(fields, separators=(",", ":")).encode()


def decode_state(raw: bytes | None) -> BucketState | None:
    """The state stored by ``encode_state``; unreadable bytes count as an empty bucket."""
    if raw is None:
        return None
    try:
        tat, low, since, first, count = json.loads(raw)
        return BucketState(
            tat=float(tat),
            low=float(low),
            since=-math.inf if since is None else float(since),
            first=-math.inf if first is None else float(first),
            count=int(count),
        )
    except (ValueError, TypeError):
        return None


def idle_ttl(state: BucketState, command: BucketCommand, now: float) -> float:
    """Seconds a stored bucket must outlive ``now``: past its tat and any recovery."""
    recovery = command.adaptive.recovery if command.adaptive is not None else 0.0
    latest = max(state.tat, state.since + recovery if math.isfinite(state.since) else now)
    return max(60.0, latest - now + 60.0)


# The same arithmetic for Redis, on the server's clock (seconds, microsecond precision).
# KEYS[1]: the bucket hash (fields tat, low, since, first, count). ARGV: op ("reserve" |
# "throttled" | "peek"), rate, burst, max_wait (-1 for none), adaptive (0 | 1), decrease,
# floor, recovery, hold, threshold, and optionally now (seconds; tests use it to compare this
# script with ``apply`` exactly).
# Returns {granted (0 | 1), wait, rate} with the numbers as strings: Redis truncates Lua
# numbers to integers in replies.
BUCKET_LUA = """
local now
if ARGV[11] then
  now = tonumber(ARGV[11])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local op = ARGV[1]
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local adaptive = ARGV[5] == '1'
local decrease = tonumber(ARGV[6])
local floor = tonumber(ARGV[7])
local recovery = tonumber(ARGV[8])
local hold = tonumber(ARGV[9])
local threshold = tonumber(ARGV[10])
local saved = redis.call('HMGET', KEYS[1], 'tat', 'low', 'since', 'first', 'count')
local exists = saved[1] ~= false
local tat = now
local low = 0
local since = nil
local first = nil
local count = 0
if exists then
  tat = tonumber(saved[1])
  low = tonumber(saved[2]) or 0
  since = tonumber(saved[3])
  first = tonumber(saved[4])
  count = tonumber(saved[5]) or 0
end
local eff = rate
if adaptive and exists and low > 0 and since ~= nil then
  local progress = math.max(0, (now - since) / recovery)
  if progress < 1 then
    local l = math.min(low, rate)
    eff = l + (rate - l) * progress
  end
end
local interval = 1 / eff
local tolerance = (burst - 1) * interval
local function save()
  local latest = tat
  if since ~= nil and since + recovery > latest then latest = since + recovery end
  local ttl = math.max(60, latest - now + 60)
  local fields = {'tat', string.format('%.6f', tat), 'low', string.format('%.9g', low)}
  if since ~= nil then
    table.insert(fields, 'since')
    table.insert(fields, string.format('%.6f', since))
  end
  if first ~= nil then
    table.insert(fields, 'first')
    table.insert(fields, string.format('%.6f', first))
    table.insert(fields, 'count')
    table.insert(fields, tostring(count))
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('PEXPIRE', KEYS[1], math.ceil(ttl * 1000))
end
if op ~= 'throttled' then
  local wait = math.max(0, tat - tolerance - now)
  if op == 'peek' or (max_wait >= 0 and wait > max_wait + 0.000001) then
    return {0, string.format('%.6f', wait), string.format('%.9g', eff)}
  end
  tat = math.max(tat, now) + interval
  save()
  return {1, string.format('%.6f', wait), string.format('%.9g', eff)}
end
if adaptive then
  if first == nil or now - first > hold then
    first = now
    count = 1
  else
    count = count + 1
  end
  if count >= threshold and (since == nil or now - since >= hold) then
    low = math.max(rate * floor, eff * decrease)
    since = now
    eff = low
  end
end
tat = math.max(tat, now + (burst - 1) / eff)
save()
return {0, '0', string.format('%.9g', eff)}
"""
