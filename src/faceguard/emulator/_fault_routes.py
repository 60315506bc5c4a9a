"""The control routes of the fault layer, for server mode (``/_emulator/faults``,
``/_emulator/tps``, ``/_emulator/traffic``; their bodies and answers are described in
``_traffic``). A refused body changes nothing: the seed is applied only once its rule is
accepted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ._faults import Faults
from ._wire import FaceApiError, Handler, empty_response, json_response, read_json

__all__ = ["routes"]

_FAULT_FIELDS = frozenset(
    {
        "route",
        "status",
        "retry_after",
        "delay",
        "drop",
        "probability",
        "times",
        "method",
        "code",
        "message",
        "seed",
    }
)


# -- control routes ----------------------------------------------------------------------------


class _BadBody(ValueError):
    pass


def _json_object(request: httpx.Request, code: str) -> dict[str, Any]:
    body = read_json(request.content, code=code, message="the body is not JSON", empty={})
    if not isinstance(body, dict):
        raise FaceApiError(400, code, "the body must be a JSON object")
    return body


def _number(body: Mapping[str, Any], name: str, *, nullable: bool = True) -> float | None:
    value = body.get(name)
    if value is None and nullable:
        return None
    # bool is an int in Python, but ``true`` is not a number of seconds.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadBody(f"'{name}' must be a number{' or null' if nullable else ''}")
    return float(value)


def _integer(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadBody(f"'{name}' must be an integer or null")
    return value


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _BadBody(f"'{name}' must be a string or null")
    return value


def _fault_kwargs(body: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - _FAULT_FIELDS)
    if unknown:
        raise _BadBody(
            f"unknown member(s) {', '.join(unknown)}; expected {', '.join(sorted(_FAULT_FIELDS))}"
        )
    drop = body.get("drop", False)
    if drop is None:
        drop = False
    if not isinstance(drop, bool) and drop not in ("response", "connect"):
        raise _BadBody("'drop' must be true, false, 'response' or 'connect'")
    route = body.get("route", "*")
    if not isinstance(route, str) or not route:
        raise _BadBody("'route' must be a route template or '*'")
    return {
        "route": route,
        "status": _integer(body, "status"),
        "retry_after": _number(body, "retry_after"),
        "delay": _number(body, "delay") or 0.0,
        "drop": drop,
        "probability": _number(body, "probability"),
        "times": _integer(body, "times") if "times" in body else 1,
        "method": _text(body, "method"),
        "code": _text(body, "code"),
        "message": _text(body, "message"),
    }


def _rule_json(rule: Any) -> dict[str, Any]:
    return {
        "route": rule.route,
        "method": rule.method,
        "status": rule.status,
        "retry_after": rule.retry_after,
        "delay": rule.delay,
        "drop": rule.drop,
        "probability": rule.probability,
        "remaining": rule.remaining,
        "hits": rule.hits,
    }


def routes(faults: Faults) -> list[tuple[str, str, Handler, str | None]]:
    """The control routes of the module docstring, for ``faults``."""

    def add_fault(request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        body = _json_object(request, "InvalidFault")
        try:
            kwargs = _fault_kwargs(body)
            seed = _integer(body, "seed")
            rule = faults.add(**kwargs)
        except ValueError as exc:  # _BadBody, and Faults.add's own checks
            raise FaceApiError(400, "InvalidFault", str(exc)) from None
        if seed is not None:  # only once the rule is accepted: a refusal changes nothing
            faults.seed(seed)
        rules = faults.rules
        index = next((i for i, r in enumerate(rules) if r is rule), len(rules) - 1)
        return json_response(201, {"index": index, "rules": len(rules)})

    def list_faults(_request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        return json_response(200, {"rules": [_rule_json(r) for r in faults.rules]})

    def clear_faults(_request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        faults.clear()
        return empty_response(204)

    def set_tps(request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        body = _json_object(request, "InvalidTps")
        try:
            if "tps" not in body:
                raise _BadBody("'tps' is required (a positive integer, or null for no limit)")
            tps = _integer(body, "tps")
            routes = body.get("routes")
            if routes is not None and (
                not isinstance(routes, list) or not all(isinstance(r, str) for r in routes)
            ):
                raise _BadBody("'routes' must be a list of route templates or null")
            faults.set_tps_limit(tps, routes=routes)
        except ValueError as exc:
            raise FaceApiError(400, "InvalidTps", str(exc)) from None
        return json_response(200, {"tps": tps})

    def traffic(request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        raw = request.url.params.get("window", "1.0")
        try:
            window = float(raw)
            summary = faults.traffic_log.summary(
                window, full=request.url.params.get("full", "") in ("1", "true")
            )
        except ValueError:
            raise FaceApiError(
                400, "InvalidWindow", f"window must be a positive number of seconds, not {raw!r}"
            ) from None
        return json_response(200, summary)

    def clear_traffic(_request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        faults.clear_traffic()
        return empty_response(204)

    return [
        ("POST", "/_emulator/faults", add_fault, None),
        ("GET", "/_emulator/faults", list_faults, None),
        ("DELETE", "/_emulator/faults", clear_faults, None),
        ("PUT", "/_emulator/tps", set_tps, None),
        ("GET", "/_emulator/traffic", traffic, None),
        ("DELETE", "/_emulator/traffic", clear_traffic, None),
    ]
