"""An offline emulator of the Azure AI Face API v1.2, for tests (like moto for AWS).

It serves the REST contract in process (``Emulator().transport()`` for ``FaceClient`` and
``AsyncFaceClient``) with a real local face engine: faces are detected and compared from the
pixels, faceIds expire on the clock, training runs asynchronously, and errors carry the
service's codes. Nothing that looks like a measurement is invented: attributes the engine
cannot measure must be scripted by the test (``Emulator.script_attribute``).

```python
from faceguard import FaceClient
from faceguard.emulator import Emulator, ManualClock

clock = ManualClock()
emulator = Emulator(clock=clock)
client = FaceClient("https://emulator.invalid", api_key="any", transport=emulator.transport(),
                    sleep=clock.advance)
```

The face engine (``OpenCVEngine``) needs ``pip install "faceguard[emulator]"``; it is built on
first use, and any ``FaceEngine`` can be injected instead.
"""

from __future__ import annotations

from ._emulator import Emulator, Hook
from ._engine_api import EngineFace, EngineImageError, FaceEngine
from ._routing import Middleware, Router
from ._wire import EngineUnavailable, FaceApiError
from .face.models import Limits, ManualClock, ServiceState

__all__ = [
    "Emulator",
    "EngineFace",
    "EngineImageError",
    "EngineUnavailable",
    "FaceApiError",
    "FaceEngine",
    "Hook",
    "Limits",
    "ManualClock",
    "Middleware",
    "Router",
    "ServiceState",
]
