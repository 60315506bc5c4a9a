"""The Face v1.2 GA route table of the emulator (70 of the contract's 77 operations; the 7
liveness ones are ``liveness/``'s): request parsing, the service's rules, and wire-shaped
answers.

Every handler takes an ``httpx.Request`` and its path parameters and returns an
``httpx.Response``, or raises ``FaceApiError`` to refuse it; the router answers the refusal,
adds ``apim-request-id`` and the auth check. Bodies follow the
contract's schemas exactly (no field outside them); errors are ``{"error": {"code",
"message"}}`` with an ``x-ms-error-code`` header, with the codes, statuses and messages of the
Face error reference (https://aka.ms/face-error-codes-and-messages). Where that reference is
silent the choice is marked ``Code chosen:`` in the handler modules.

This module assembles the route table (``FaceRoutes``); the handlers live in ``detect``,
``recognition`` and ``containers``, on the shared pieces of ``common``; the data in
``models``, its transitions in ``store``.

What the emulator measures comes from the face engine (boxes, landmarks, head pose, blur,
exposure, noise, quality for recognition, similarity). What it cannot measure (glasses,
occlusion, accessories, mask) it refuses with 501 ``NotSupportedByEmulator`` unless a test
scripted a value (``Emulator.script_attribute``): it never invents a measurement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from .common import _ROUTE, FACE_BASE, Handler
from .containers import ContainerHandlers
from .detect import DetectHandlers
from .models import PERSON_KINDS, ContainerKind
from .recognition import RecognitionHandlers

__all__ = ["FaceRoutes"]


class FaceRoutes(DetectHandlers, RecognitionHandlers, ContainerHandlers):
    """The Face handlers of one emulator.

    Args:
        store: the service state.
        engine: returns the face engine (built lazily by the emulator).
        fetch: downloads an image URL (``fetch_image`` by default).
        session_image: the bytes of a liveness session image, or ``None``.
        scripted: attribute values scripted by tests, by wire name (read on every detect).
        stale_training: what identify / find-similar do with a container changed since its
            last training: ``"snapshot"`` (the service's behaviour: search what was trained)
            or ``"error"`` (answer ``XNotTrained``).
        approved: whether the resource is approved for identification and verification.
    """

    # -- the table ---------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, str, Handler]]:
        """Every Face route (method, template under ``/face/v1.2``, handler)."""
        table: list[tuple[str, str, Handler]] = [
            ("POST", "/detect", self.detect),
            ("POST", "/verify", self.verify),
            ("POST", "/identify", self.identify),
            ("POST", "/findsimilars", self.find_similar),
            ("POST", "/group", self.group),
        ]
        for kind, (collection, id_param) in _ROUTE.items():
            item = f"{collection}/{{{id_param}}}"
            table += [
                ("GET", collection, self._bind(self.list_containers, kind)),
                ("PUT", item, self._bind(self.create_container, kind)),
                ("GET", item, self._bind(self.get_container, kind)),
                ("PATCH", item, self._bind(self.update_container, kind)),
                ("DELETE", item, self._bind(self.delete_container, kind)),
            ]
            if kind in PERSON_KINDS:
                person = f"{item}/persons/{{personId}}"
                face = f"{person}/persistedfaces/{{persistedFaceId}}"
                table += [
                    ("POST", f"{item}/persons", self._bind(self.create_person, kind)),
                    ("GET", f"{item}/persons", self._bind(self.list_persons, kind)),
                    ("GET", person, self._bind(self.get_person, kind)),
                    ("PATCH", person, self._bind(self.update_person, kind)),
                    ("DELETE", person, self._bind(self.delete_person, kind)),
                    ("POST", f"{person}/persistedfaces", self._bind(self.add_face, kind)),
                    ("GET", face, self._bind(self.get_face, kind)),
                    ("PATCH", face, self._bind(self.update_face, kind)),
                    ("DELETE", face, self._bind(self.delete_face, kind)),
                ]
            else:
                face = f"{item}/persistedfaces/{{persistedFaceId}}"
                table += [
                    ("POST", f"{item}/persistedfaces", self._bind(self.add_face, kind)),
                    ("DELETE", face, self._bind(self.delete_face, kind)),
                ]
                if kind == "largeFaceList":
                    table += [
                        ("GET", f"{item}/persistedfaces", self._bind(self.list_faces, kind)),
                        ("GET", face, self._bind(self.get_face, kind)),
                        ("PATCH", face, self._bind(self.update_face, kind)),
                    ]
            if kind != "faceList":
                table += [
                    ("POST", f"{item}/train", self._bind(self.train, kind)),
                    ("GET", f"{item}/training", self._bind(self.training_status, kind)),
                ]
        return [(method, FACE_BASE + route, handler) for method, route, handler in table]

    @staticmethod
    def _bind(
        method: Callable[[ContainerKind, httpx.Request, Mapping[str, str]], httpx.Response],
        kind: ContainerKind,
    ) -> Handler:
        def handler(request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
            return method(kind, request, params)

        return handler
