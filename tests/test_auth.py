"""Authentication and client configuration: keys, token credentials, endpoints, environment.

No network: every client talks to an ``httpx.MockTransport`` that records the requests.
"""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import faceguard
from faceguard import (
    AsyncContentSafetyClient,
    AsyncFaceClient,
    ConfigurationError,
    ContentSafetyClient,
    FaceClient,
    RetryPolicy,
)
from faceguard._credentials import KeyAuth, TokenAuth

ENDPOINT = "https://auth-tests.cognitiveservices.azure.com"
KEY = "AUTHKEY" + uuid.uuid4().hex
SCOPE = "https://cognitiveservices.azure.com/.default"
ENV_VARS = (
    "FACEGUARD_ENDPOINT",
    "FACEGUARD_API_KEY",
    "FACEGUARD_CONTENT_SAFETY_ENDPOINT",
    "FACEGUARD_CONTENT_SAFETY_API_KEY",
    "FACEGUARD_LOG",
)
FACE_CLIENTS = [FaceClient, AsyncFaceClient]
ALL_CLIENTS = [FaceClient, AsyncFaceClient, ContentSafetyClient, AsyncContentSafetyClient]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class AccessToken:
    token: str
    expires_on: int


class FakeCredential:
    """A sync ``TokenCredential``: hands out numbered tokens and records each call."""

    def __init__(self, lifetime: float = 3600.0) -> None:
        self.lifetime = lifetime
        self.calls: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append(scopes)
        return AccessToken(f"TOKEN{len(self.calls)}", int(time.time() + self.lifetime))


class FakeAsyncCredential:
    """An async ``TokenCredential`` (like ``azure.identity.aio`` ones)."""

    def __init__(self, lifetime: float = 3600.0) -> None:
        self.lifetime = lifetime
        self.calls: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Coroutine[Any, Any, AccessToken]:
        # Recorded when called, even if the coroutine is never awaited.
        self.calls.append(scopes)
        return self._issue(f"ATOKEN{len(self.calls)}")

    async def _issue(self, token: str) -> AccessToken:
        return AccessToken(token, int(time.time() + self.lifetime))


class Recorder:
    """A MockTransport handler answering a person group (or blocklist) and keeping requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if "/contentsafety/" in request.url.path:
            return httpx.Response(200, json={"blocklistName": "my-list"})
        return httpx.Response(200, json={"personGroupId": "group-1", "name": "Group"})


async def call_twice(mode: str, recorder: Recorder, **client_kwargs: Any) -> list[Any]:
    """Make two calls on one Face client (sync or async) built with ``client_kwargs``."""
    transport = httpx.MockTransport(recorder)
    if mode == "sync":
        with FaceClient(ENDPOINT, transport=transport, **client_kwargs) as client:
            return [client.person_groups.get("group-1") for _ in range(2)]
    async with AsyncFaceClient(ENDPOINT, transport=transport, **client_kwargs) as client:
        return [await client.person_groups.get("group-1") for _ in range(2)]


async def call_once(client_cls: type, recorder: Recorder, *args: Any, **kwargs: Any) -> Any:
    """One call on any of the four clients."""
    client = client_cls(*args, transport=httpx.MockTransport(recorder), **kwargs)
    face = client_cls in (FaceClient, AsyncFaceClient)
    operation: Callable[[], Any] = (
        (lambda: client.person_groups.get("group-1"))
        if face
        else (lambda: client.blocklists.get("my-list"))
    )
    if client_cls in (FaceClient, ContentSafetyClient):
        with client:
            return operation()
    async with client:
        return await operation()


# -- subscription key ---------------------------------------------------------------------------


@pytest.mark.parametrize("client_cls", ALL_CLIENTS)
async def test_key_auth_sends_the_subscription_key_header(client_cls: type) -> None:
    recorder = Recorder()

    await call_once(client_cls, recorder, ENDPOINT, api_key=KEY)

    [request] = recorder.requests
    assert request.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert "authorization" not in request.headers


def test_key_is_stripped_and_an_empty_key_refused() -> None:
    assert KeyAuth(f"  {KEY}\n").sync_headers() == {"Ocp-Apim-Subscription-Key": KEY}
    for empty in ("", "   "):
        with pytest.raises(ConfigurationError):
            KeyAuth(empty)


# -- token credentials ---------------------------------------------------------------------------


async def test_token_credential_sends_a_bearer_token_for_the_cognitive_services_scope(
    mode: str,
) -> None:
    credential = FakeCredential()
    recorder = Recorder()

    await call_twice(mode, recorder, credential=credential)

    assert credential.calls == [(SCOPE,)]  # fetched once, then cached
    for request in recorder.requests:
        assert request.headers["Authorization"] == "Bearer TOKEN1"
        assert "ocp-apim-subscription-key" not in request.headers


async def test_token_near_expiry_is_refreshed_before_each_call(mode: str) -> None:
    # 200 s left is inside the 300 s refresh margin: every call fetches a new token.
    credential = FakeCredential(lifetime=200)
    recorder = Recorder()

    await call_twice(mode, recorder, credential=credential)

    assert credential.calls == [(SCOPE,), (SCOPE,)]
    assert [r.headers["Authorization"] for r in recorder.requests] == [
        "Bearer TOKEN1",
        "Bearer TOKEN2",
    ]


async def test_async_credential_works_with_the_async_client() -> None:
    credential = FakeAsyncCredential()
    recorder = Recorder()

    await call_twice("async", recorder, credential=credential)

    assert credential.calls == [(SCOPE,)]
    assert [r.headers["Authorization"] for r in recorder.requests] == ["Bearer ATOKEN1"] * 2


async def test_async_credential_refreshes_with_the_async_client() -> None:
    credential = FakeAsyncCredential(lifetime=100)
    recorder = Recorder()

    await call_twice("async", recorder, credential=credential)

    assert [r.headers["Authorization"] for r in recorder.requests] == [
        "Bearer ATOKEN1",
        "Bearer ATOKEN2",
    ]


@pytest.mark.parametrize("client_cls", [FaceClient, ContentSafetyClient])
def test_async_credential_with_a_sync_client_is_a_configuration_error(client_cls: type) -> None:
    credential = FakeAsyncCredential()
    recorder = Recorder()
    waits: list[float] = []
    client = client_cls(
        ENDPOINT,
        credential=credential,
        transport=httpx.MockTransport(recorder),
        sleep=waits.append,
        retry=RetryPolicy(jitter=0.0),
    )

    with client, pytest.raises(ConfigurationError, match="async"):
        if client_cls is FaceClient:
            client.person_groups.get("group-1")
        else:
            client.blocklists.get("my-list")

    assert recorder.requests == []  # nothing was sent
    assert len(credential.calls) == 1  # and it was not retried
    assert waits == []
    # The un-awaited coroutine was closed: no "never awaited" RuntimeWarning (an error here).
    gc.collect()


def test_token_auth_caches_and_refreshes_within_300_seconds_of_expiry() -> None:
    now = [1_000.0]
    tokens = iter(["first", "second", "third"])
    calls: list[tuple[str, ...]] = []

    class Credential:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            calls.append(scopes)
            return AccessToken(next(tokens), 2_000)

    auth = TokenAuth(Credential(), clock=lambda: now[0])

    assert auth.sync_headers() == {"Authorization": "Bearer first"}
    now[0] = 1_699.0  # 301 s before expiry: still fresh
    assert auth.sync_headers() == {"Authorization": "Bearer first"}
    assert len(calls) == 1
    now[0] = 1_700.0  # exactly 300 s before expiry: refreshed
    assert auth.sync_headers() == {"Authorization": "Bearer second"}
    assert calls == [(SCOPE,), (SCOPE,)]


async def test_token_auth_async_headers_cache_and_refresh() -> None:
    now = [0.0]

    class Credential:
        def __init__(self) -> None:
            self.count = 0

        async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            assert scopes == (SCOPE,)
            self.count += 1
            return AccessToken(f"t{self.count}", 1_000)

    credential = Credential()
    auth = TokenAuth(credential, clock=lambda: now[0])

    assert await auth.async_headers() == {"Authorization": "Bearer t1"}
    now[0] = 650.0
    assert await auth.async_headers() == {"Authorization": "Bearer t1"}
    now[0] = 750.0
    assert await auth.async_headers() == {"Authorization": "Bearer t2"}
    assert credential.count == 2


@pytest.mark.parametrize(
    "returned",
    [None, AccessToken(None, 10), AccessToken("tok", "later"), object()],  # type: ignore[arg-type]
)
def test_a_credential_returning_junk_is_a_configuration_error(returned: object) -> None:
    class Credential:
        def get_token(self, *scopes: str, **kwargs: Any) -> object:
            return returned

    with pytest.raises(ConfigurationError):
        TokenAuth(Credential()).sync_headers()


def test_an_object_without_get_token_is_not_a_credential() -> None:
    with pytest.raises(ConfigurationError, match="get_token"):
        FaceClient(ENDPOINT, credential=object())  # type: ignore[arg-type]


# -- configuration errors -------------------------------------------------------------------------


@pytest.mark.parametrize("client_cls", ALL_CLIENTS)
def test_key_and_credential_together_is_a_configuration_error(client_cls: type) -> None:
    with pytest.raises(ConfigurationError, match="either"):
        client_cls(ENDPOINT, api_key=KEY, credential=FakeCredential())


@pytest.mark.parametrize(
    ("client_cls", "variable"),
    [
        (FaceClient, "FACEGUARD_ENDPOINT"),
        (AsyncFaceClient, "FACEGUARD_ENDPOINT"),
        (ContentSafetyClient, "FACEGUARD_CONTENT_SAFETY_ENDPOINT"),
        (AsyncContentSafetyClient, "FACEGUARD_CONTENT_SAFETY_ENDPOINT"),
    ],
)
def test_missing_endpoint_names_the_variable(client_cls: type, variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        client_cls(api_key=KEY)


@pytest.mark.parametrize(
    ("client_cls", "variable"),
    [
        (FaceClient, "FACEGUARD_API_KEY"),
        (AsyncFaceClient, "FACEGUARD_API_KEY"),
        (ContentSafetyClient, "FACEGUARD_CONTENT_SAFETY_API_KEY"),
        (AsyncContentSafetyClient, "FACEGUARD_CONTENT_SAFETY_API_KEY"),
    ],
)
def test_missing_key_names_the_variable(client_cls: type, variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable) as info:
        client_cls(ENDPOINT)
    assert "credential" in str(info.value)


# -- environment ---------------------------------------------------------------------------------


@pytest.mark.parametrize("client_cls", FACE_CLIENTS)
async def test_endpoint_and_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, client_cls: type
) -> None:
    monkeypatch.setenv("FACEGUARD_ENDPOINT", "https://from-env.cognitiveservices.azure.com/")
    monkeypatch.setenv("FACEGUARD_API_KEY", "ENVKEY")
    recorder = Recorder()

    await call_once(client_cls, recorder)

    [request] = recorder.requests
    assert str(request.url).startswith(
        "https://from-env.cognitiveservices.azure.com/face/v1.2/persongroups/group-1"
    )
    assert request.headers["Ocp-Apim-Subscription-Key"] == "ENVKEY"


@pytest.mark.parametrize("client_cls", FACE_CLIENTS)
async def test_explicit_arguments_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, client_cls: type
) -> None:
    monkeypatch.setenv("FACEGUARD_ENDPOINT", "https://from-env.cognitiveservices.azure.com")
    monkeypatch.setenv("FACEGUARD_API_KEY", "ENVKEY")
    recorder = Recorder()

    await call_once(client_cls, recorder, ENDPOINT, api_key=KEY)

    [request] = recorder.requests
    assert request.url.host == "auth-tests.cognitiveservices.azure.com"
    assert request.headers["Ocp-Apim-Subscription-Key"] == KEY


@pytest.mark.parametrize("client_cls", FACE_CLIENTS)
async def test_a_credential_wins_over_a_key_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, client_cls: type
) -> None:
    monkeypatch.setenv("FACEGUARD_API_KEY", "ENVKEY")
    recorder = Recorder()
    credential = FakeAsyncCredential() if client_cls is AsyncFaceClient else FakeCredential()

    await call_once(client_cls, recorder, ENDPOINT, credential=credential)

    [request] = recorder.requests
    assert request.headers["Authorization"].startswith("Bearer ")
    assert "ocp-apim-subscription-key" not in request.headers


@pytest.mark.parametrize("client_cls", [ContentSafetyClient, AsyncContentSafetyClient])
async def test_content_safety_falls_back_to_the_face_variables(
    monkeypatch: pytest.MonkeyPatch, client_cls: type
) -> None:
    monkeypatch.setenv("FACEGUARD_ENDPOINT", "https://multi.cognitiveservices.azure.com")
    monkeypatch.setenv("FACEGUARD_API_KEY", "FACEKEY")
    recorder = Recorder()

    await call_once(client_cls, recorder)

    [request] = recorder.requests
    assert request.url.host == "multi.cognitiveservices.azure.com"
    assert request.url.path == "/contentsafety/text/blocklists/my-list"
    assert request.headers["Ocp-Apim-Subscription-Key"] == "FACEKEY"


@pytest.mark.parametrize("client_cls", [ContentSafetyClient, AsyncContentSafetyClient])
async def test_content_safety_prefers_its_own_variables(
    monkeypatch: pytest.MonkeyPatch, client_cls: type
) -> None:
    monkeypatch.setenv("FACEGUARD_ENDPOINT", "https://multi.cognitiveservices.azure.com")
    monkeypatch.setenv("FACEGUARD_API_KEY", "FACEKEY")
    monkeypatch.setenv(
        "FACEGUARD_CONTENT_SAFETY_ENDPOINT", "https://safety.cognitiveservices.azure.com"
    )
    monkeypatch.setenv("FACEGUARD_CONTENT_SAFETY_API_KEY", "SAFETYKEY")
    recorder = Recorder()

    await call_once(client_cls, recorder)

    [request] = recorder.requests
    assert request.url.host == "safety.cognitiveservices.azure.com"
    assert request.headers["Ocp-Apim-Subscription-Key"] == "SAFETYKEY"


# -- endpoints -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://auth-tests.cognitiveservices.azure.com",
        "http://10.0.0.7:8080",
        "http://127.0.0.1.attacker.example",
        "ftp://auth-tests.cognitiveservices.azure.com",
        "auth-tests.cognitiveservices.azure.com",
        "https://",
        "https://auth-tests.cognitiveservices.azure.com/?x=1",
    ],
)
@pytest.mark.parametrize("client_cls", ALL_CLIENTS)
def test_bad_endpoints_are_refused(client_cls: type, endpoint: str) -> None:
    with pytest.raises(ConfigurationError):
        client_cls(endpoint, api_key=KEY)


@pytest.mark.parametrize(
    ("endpoint", "base"),
    [
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000/face/v1.2"),
        ("http://localhost:5000/", "http://localhost:5000/face/v1.2"),
        ("http://[::1]:5000", "http://[::1]:5000/face/v1.2"),
        ("https://auth-tests.cognitiveservices.azure.com/", f"{ENDPOINT}/face/v1.2"),
    ],
)
@pytest.mark.parametrize("client_cls", FACE_CLIENTS)
async def test_loopback_http_and_https_are_allowed(
    client_cls: type, endpoint: str, base: str
) -> None:
    recorder = Recorder()

    await call_once(client_cls, recorder, endpoint, api_key=KEY)

    [request] = recorder.requests
    assert str(request.url).startswith(f"{base}/persongroups/group-1?")


# -- headers and reprs ---------------------------------------------------------------------------


@pytest.mark.parametrize("client_cls", ALL_CLIENTS)
async def test_user_agent_names_faceguard_and_its_version(client_cls: type) -> None:
    recorder = Recorder()

    await call_once(client_cls, recorder, ENDPOINT, api_key=KEY)

    user_agent = recorder.requests[0].headers["User-Agent"]
    assert user_agent.startswith(f"faceguard/{faceguard.__version__} ")
    assert "python/" in user_agent


def _reprs(obj: object) -> str:
    return repr(obj) + str(obj)


@pytest.mark.parametrize("client_cls", ALL_CLIENTS)
async def test_reprs_of_key_clients_configs_and_auth_hold_no_key(client_cls: type) -> None:
    client = client_cls(ENDPOINT, api_key=KEY, transport=httpx.MockTransport(Recorder()))
    config = client._transport.config
    shown = _reprs(client) + _reprs(config) + _reprs(config.auth)
    if client_cls in (FaceClient, ContentSafetyClient):
        client.close()
    else:
        await client.aclose()

    assert KEY not in shown
    assert "REDACTED" in repr(config.auth)
    assert "auth-tests.cognitiveservices.azure.com" in repr(client)


async def test_reprs_of_credential_clients_hold_no_token(mode: str) -> None:
    credential = FakeCredential() if mode == "sync" else FakeAsyncCredential()
    recorder = Recorder()
    transport = httpx.MockTransport(recorder)
    if mode == "sync":
        with FaceClient(ENDPOINT, credential=credential, transport=transport) as client:
            client.person_groups.get("group-1")
            shown = _reprs(client) + _reprs(client._transport.config)
            shown += _reprs(client._transport.config.auth)
    else:
        async with AsyncFaceClient(ENDPOINT, credential=credential, transport=transport) as client:
            await client.person_groups.get("group-1")
            shown = _reprs(client) + _reprs(client._transport.config)
            shown += _reprs(client._transport.config.auth)

    token = recorder.requests[0].headers["Authorization"].removeprefix("Bearer ")
    assert token.endswith("TOKEN1")
    assert token not in shown
    assert type(credential).__name__ in shown


def test_key_auth_has_no_instance_dict_to_dump() -> None:
    auth = KeyAuth(KEY)
    assert not hasattr(auth, "__dict__")
    assert KEY not in _reprs(auth)


def test_an_async_credential_is_refused_when_the_sync_client_is_built() -> None:
    class AsyncOnly:
        async def get_token(self, *scopes: str, **kwargs: object) -> object:
            raise AssertionError("never called")

    with pytest.raises(ConfigurationError, match="async"):
        FaceClient("https://example.cognitiveservices.azure.com", credential=AsyncOnly())
