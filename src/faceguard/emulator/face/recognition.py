"""Face recognition in the emulator: verify, identify, find-similar and group, and the
scoring behind them. Identify scores large trained snapshots through ``_Gallery``, a cached
float32 matrix of unit embeddings that finds the same answer as scoring every entry with
the engine while scoring only the entries that can be in it. It exists so comparing faces,
and the vectorised search that keeps it fast, are apart from detection and from the
containers that hold the faces.
"""

from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from .common import (
    _COLLECTION_ID,
    _ROUTE,
    FaceHandlersBase,
    _bad,
    _face_id_list,
    _int_field,
    _json_body,
    _number_field,
    _uuid,
    json_response,
    serves,
)
from .models import KIND_TEXT, ContainerKind, FaceApiError, TrainedEntry

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["SAME_PERSON", "RecognitionHandlers"]

SAME_PERSON = 0.5
"""Confidence at or above which two faces are the same person (verify's documented default;
the engine maps its own threshold onto it)."""

_GALLERY_MIN = 64
"""Identify scores snapshots of fewer entries the reference way (``FaceRoutes._ranked``)."""
_GALLERIES_KEPT = 4
"""Embedding matrices kept (one per container, most recently used)."""
_COSINE_MARGIN = 1e-3
_EMBEDDING_BYTES = 128 * 4


@dataclass(frozen=True)
class _Gallery:
    """A trained snapshot's embeddings as one float32 matrix of unit rows."""

    entries: tuple[TrainedEntry, ...]
    matrix: NDArray[np.float32]
    rows: list[int]
    """For each scored entry (those with embeddings), its index in ``entries``."""
    starts: NDArray[np.intp] | None
    """Each scored entry's first row in ``matrix``; ``None`` when every entry has one."""

    @classmethod
    def build(cls, entries: tuple[TrainedEntry, ...]) -> _Gallery | None:
        """``None`` when an embedding is not 128 float32 values (scored the reference way)."""
        import numpy as np

        rows = [i for i, entry in enumerate(entries) if entry.embeddings]
        blobs = [blob for i in rows for blob in entries[i].embeddings]
        if not rows or set(map(len, blobs)) != {_EMBEDDING_BYTES}:
            return None
        matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1)
        wide = matrix.astype(np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", wide, wide))
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0.0)
        unit = (wide * inverse[:, None]).astype(np.float32)
        starts = None
        if len(blobs) != len(rows):  # some entry has several faces
            counts = [len(entries[i].embeddings) for i in rows]
            starts = np.cumsum([0, *counts[:-1]]).astype(np.intp)
        return cls(entries, unit, rows, starts)


class RecognitionHandlers(FaceHandlersBase):
    """The verify / identify / find-similar / group handlers (``FaceRoutes`` mixes them in)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._galleries: OrderedDict[tuple[ContainerKind, str], _Gallery] = OrderedDict()
        self._galleries_lock = threading.Lock()

    def _confidence(self, a: bytes, b: bytes) -> float:
        value = float(self._engine().confidence(a, b))
        return round(min(1.0, max(0.0, value)), 5)

    def _best(self, probe: bytes, embeddings: Sequence[bytes]) -> float:
        return max((self._confidence(probe, e) for e in embeddings), default=0.0)

    def _ranked(
        self, probe: bytes, entries: Sequence[TrainedEntry], threshold: float, top: int
    ) -> list[tuple[float, str]]:
        """Identify's candidates, the reference way: every entry scored by the engine, those
        at or above ``threshold`` ranked by (confidence desc, id), the first ``top``."""
        scored = [(self._best(probe, e.embeddings), e.owner_id) for e in entries if e.embeddings]
        return sorted((s for s in scored if s[0] >= threshold), key=lambda s: (-s[0], s[1]))[:top]

    def _gallery(
        self, kind: ContainerKind, container_id: str, entries: tuple[TrainedEntry, ...]
    ) -> _Gallery | None:
        """The snapshot as one matrix, for ``_ranked_by_cosine``; ``None`` to score the
        reference way (small snapshots, or an engine whose confidence is not known to rise
        with the cosine of the embeddings: only ``OpenCVEngine``'s is, ENGINE.md section 5).
        Cached per container while ``FaceStore.trained`` hands out the same snapshot."""
        if len(entries) < _GALLERY_MIN:
            return None
        key = (kind, container_id)
        with self._galleries_lock:
            cached = self._galleries.get(key)
            if cached is not None and cached.entries is entries:
                self._galleries.move_to_end(key)
                return cached
        from .._engine import OpenCVEngine  # no OpenCV import: only the module's classes

        try:
            engine = self._engine()
        except ImportError:  # EngineUnavailable: the reference way reports it if it must
            return None
        if not isinstance(engine, OpenCVEngine):
            return None
        gallery = _Gallery.build(entries)
        if gallery is None:
            return None
        with self._galleries_lock:
            self._galleries[key] = gallery
            self._galleries.move_to_end(key)
            while len(self._galleries) > _GALLERIES_KEPT:
                self._galleries.popitem(last=False)
        return gallery

    def _ranked_by_cosine(
        self, probe: bytes, gallery: _Gallery, threshold: float, top: int
    ) -> list[tuple[float, str]]:
        """The same answer as ``_ranked``, scoring only the entries that can be in it.

        One matrix-vector product gives every entry's best cosine with the probe (float32).
        The engine's confidence rises with the cosine (and its rounding keeps the order), so
        entries are walked from the highest cosine down and scored exactly as ``_ranked``
        does. The walk stops below an entry that proved nothing further can qualify: its
        confidence is under ``threshold``, or under the ``top``-th best found so far; entries
        within ``_COSINE_MARGIN`` of its cosine (far above float32 error) are still scored.
        """
        import numpy as np

        if len(probe) != _EMBEDDING_BYTES:
            return self._ranked(probe, gallery.entries, threshold, top)
        vector = np.frombuffer(probe, dtype="<f4").astype(np.float64)
        norm = float(np.linalg.norm(vector))
        unit = (vector / norm if norm > 0.0 else vector).astype(np.float32)
        cosines = gallery.matrix @ unit
        if gallery.starts is not None:
            cosines = np.maximum.reduceat(cosines, gallery.starts)
        first = min(len(cosines), max(4 * top, 64))
        head = np.argpartition(-cosines, first - 1)[:first] if first < len(cosines) else None
        if head is None:
            orders = [np.argsort(-cosines, kind="stable")]
        else:
            orders = [head[np.argsort(-cosines[head], kind="stable")]]
        accepted: list[tuple[float, str]] = []
        best: list[float] = []  # a min-heap of the ``top`` best confidences found
        walked = np.zeros(len(cosines), dtype=bool)
        stop_below: float | None = None
        while orders:
            for index in orders.pop().tolist():
                if walked[index]:
                    continue
                cosine = float(cosines[index])
                if stop_below is not None and cosine < stop_below:
                    return sorted(accepted, key=lambda s: (-s[0], s[1]))[:top]
                walked[index] = True
                entry = gallery.entries[gallery.rows[index]]
                score = self._best(probe, entry.embeddings)
                full = len(best) >= top
                if stop_below is None and (score < threshold or (full and score < best[0])):
                    stop_below = cosine - _COSINE_MARGIN
                if score >= threshold:
                    accepted.append((score, entry.owner_id))
                    if not full:
                        heapq.heappush(best, score)
                    elif score > best[0]:
                        heapq.heapreplace(best, score)
            if head is not None:
                orders.append(np.argsort(-cosines, kind="stable"))
                head = None
        return sorted(accepted, key=lambda s: (-s[0], s[1]))[:top]

    # -- recognition -------------------------------------------------------------------------

    def verify(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        """``FaceRecognitionOperations_Verify*`` (face to face, or to a person)."""
        operation = serves(request, "FaceRecognitionOperations_VerifyFaceToFace")
        body = _json_body(request)
        if "faceId1" in body or "faceId2" in body:
            ids = [
                _uuid(body.get("faceId1"), "Face ID is invalid."),
                _uuid(body.get("faceId2"), "Face ID is invalid."),
            ]
            self._require_approval()
            first, second = self._live_faces(ids, 404)
            self._one_model([first, second])
            confidence = self._confidence(first.embedding, second.embedding)
        else:
            kind: ContainerKind | None = None
            if "personGroupId" in body:
                kind = "personGroup"
                operation = serves(request, "FaceRecognitionOperations_VerifyFromPersonGroup")
            elif "largePersonGroupId" in body:
                kind = "largePersonGroup"
                operation = serves(request, "FaceRecognitionOperations_VerifyFromLargePersonGroup")
            else:
                operation = serves(request, "FaceRecognitionOperations_VerifyFromPersonDirectory")
            face_id = _uuid(body.get("faceId"), "Face ID is invalid.")
            person_id = _uuid(body.get("personId"), "Person ID is invalid.")
            self._require_approval()
            (face,) = self._live_faces([face_id], 404)
            if kind is None:
                # Person Directory persons cannot be created in v1.2 GA: none exists.
                raise FaceApiError(404, "PersonNotFound", "Person is not found.")
            container_id = body.get(_ROUTE[kind][1])
            if not isinstance(container_id, str) or not _COLLECTION_ID.match(container_id):
                raise _bad(f"{KIND_TEXT[kind]} ID is invalid.")
            container = self.store.container(kind, container_id, status=400)
            self._one_model([face], container.recognition_model)
            person = self.store.person(kind, container_id, person_id)
            embeddings = [f.embedding for f in person.faces.values()]
            if not embeddings:
                raise FaceApiError(
                    404, "PersistedFaceNotFound", "No persisted face of the person is found."
                )
            confidence = self._best(face.embedding, embeddings)
        return json_response(
            200,
            {"isIdentical": confidence >= SAME_PERSON, "confidence": confidence},
            operation=operation,
        )

    def identify(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        """``FaceRecognitionOperations_Identify*``: ranked candidates per face."""
        operation = serves(request, "FaceRecognitionOperations_IdentifyFromPersonGroup")
        body = _json_body(request)
        scopes = [
            name
            for name in (
                "personGroupId",
                "largePersonGroupId",
                "personIds",
                "dynamicPersonGroupId",
            )
            if body.get(name) is not None
        ]
        operation = {
            "largePersonGroupId": "FaceRecognitionOperations_IdentifyFromLargePersonGroup",
            "personIds": "FaceRecognitionOperations_IdentifyFromPersonDirectory",
            "dynamicPersonGroupId": "FaceRecognitionOperations_IdentifyFromDynamicPersonGroup",
        }.get(scopes[0] if scopes else "", operation)
        serves(request, operation)
        if scopes[:2] == ["personGroupId", "largePersonGroupId"] and len(scopes) == 2:
            raise FaceApiError(
                400,
                "PersonGroupIdAndLargePersonGroupIdBothNotNull",
                "Large person group ID and person group ID are both not null.",
            )
        if not scopes:
            raise FaceApiError(
                400,
                "MissingIdentificationScopeParameters",
                "No identification scope parameter is present in the request.",
            )
        if len(scopes) > 1:
            raise FaceApiError(
                400,
                "IncompatibleIdentificationScopeParametersCombination",
                "Incompatible identification scope parameters are present in the request.",
            )
        face_ids = _face_id_list(body.get("faceIds"), minimum=1, maximum=10)
        top = _int_field(body, "maxNumOfCandidatesReturned", 1, 100, 10)
        threshold = _number_field(body, "confidenceThreshold", SAME_PERSON)
        self._require_approval()
        faces = self._live_faces(face_ids, 400)
        self._one_model(faces)
        scope = scopes[0]
        if scope == "dynamicPersonGroupId":
            # Dynamic person groups cannot be created in v1.2 GA: none exists.
            raise FaceApiError(
                400, "DynamicPersonGroupNotFound", "Dynamic person group is not found."
            )
        if scope == "personIds":
            person_ids = body["personIds"]
            if person_ids != ["*"]:
                # Person Directory persons cannot be created in v1.2 GA: none exists.
                raise FaceApiError(404, "PersonNotFound", "Person is not found.")
            unmatched = [{"faceId": fid, "candidates": []} for fid in face_ids]
            return json_response(200, unmatched, operation=operation)
        kind: ContainerKind = "personGroup" if scope == "personGroupId" else "largePersonGroup"
        container_id = body[scope]
        if not isinstance(container_id, str) or not _COLLECTION_ID.match(container_id):
            raise _bad(f"{KIND_TEXT[kind]} ID is invalid.")
        model, entries = self.store.trained(kind, container_id, stale=self._stale)
        self._one_model(faces, model)
        gallery = self._gallery(kind, container_id, entries)
        results: list[dict[str, object]] = []
        for face_id, face in zip(face_ids, faces, strict=True):
            if gallery is None:
                ranked = self._ranked(face.embedding, entries, threshold, top)
            else:
                ranked = self._ranked_by_cosine(face.embedding, gallery, threshold, top)
            results.append(
                {
                    "faceId": face_id,
                    "candidates": [{"personId": pid, "confidence": c} for c, pid in ranked],
                }
            )
        return json_response(200, results, operation=operation)

    def find_similar(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        """``FaceRecognitionOperations_FindSimilar*``: ``matchPerson`` keeps the candidates
        that pass the same-person threshold, ``matchFace`` ranks all by similarity."""
        operation = serves(request, "FaceRecognitionOperations_FindSimilar")
        body = _json_body(request)
        targets = [
            n for n in ("faceIds", "faceListId", "largeFaceListId") if body.get(n) is not None
        ]
        if len(targets) == 1 and targets[0] != "faceIds":
            source = "FaceList" if targets[0] == "faceListId" else "LargeFaceList"
            operation = serves(request, f"{operation}From{source}")
        if not targets:
            raise _bad("LargeFaceListId, faceListId and faceIds are all null.")
        if len(targets) > 1:
            raise _bad("2 or more of largeFaceListId, faceListId and faceIds are not null.")
        face_id = _uuid(body.get("faceId"), "Face ID is invalid.")
        top = _int_field(body, "maxNumOfCandidatesReturned", 1, 1000, 20)
        mode = body.get("mode", "matchPerson")
        if mode not in ("matchPerson", "matchFace"):
            raise _bad("Mode is invalid.")
        self._require_approval()
        (probe,) = self._live_faces([face_id], 400)
        key = "persistedFaceId"
        pool: list[tuple[str, bytes]]
        if targets[0] == "faceIds":
            ids = _face_id_list(body["faceIds"], minimum=1, maximum=1000)
            candidates = self._live_faces(ids, 400)
            self._one_model([probe, *candidates])
            pool = [(c.face_id, c.embedding) for c in candidates]
            key = "faceId"
        elif targets[0] == "faceListId":
            container_id = body["faceListId"]
            if not isinstance(container_id, str) or not _COLLECTION_ID.match(container_id):
                raise _bad("Face list ID is invalid.")
            model, faces = self.store.live_faces("faceList", container_id)
            self._one_model([probe], model)
            if not faces:
                raise FaceApiError(400, "FaceListNotReady", "Face list is empty.")
            pool = [(f.persisted_face_id, f.embedding) for f in faces]
        else:
            container_id = body["largeFaceListId"]
            if not isinstance(container_id, str) or not _COLLECTION_ID.match(container_id):
                raise _bad("Large face list ID is invalid.")
            model, entries = self.store.trained("largeFaceList", container_id, stale=self._stale)
            self._one_model([probe], model)
            pool = [(e.owner_id, e.embeddings[0]) for e in entries if e.embeddings]
        scored = [(self._confidence(probe.embedding, emb), cid) for cid, emb in pool]
        if mode == "matchPerson":
            scored = [s for s in scored if s[0] >= SAME_PERSON]
        ranked = sorted(scored, key=lambda s: (-s[0], s[1]))[:top]
        result = [{key: cid, "confidence": c} for c, cid in ranked]
        return json_response(200, result, operation=operation)

    def group(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        """``FaceRecognitionOperations_Group``: connected components of the same-person graph
        (confidence >= 0.5); faces with no match go to ``messyGroup``."""
        operation = serves(request, "FaceRecognitionOperations_Group")
        body = _json_body(request)
        face_ids = list(dict.fromkeys(_face_id_list(body.get("faceIds"), minimum=2, maximum=1000)))
        self._require_approval()
        faces = self._live_faces(face_ids, 400)
        self._one_model(faces)
        parent = list(range(len(faces)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in range(len(faces)):
            for j in range(i + 1, len(faces)):
                if (
                    root(i) != root(j)
                    and self._confidence(faces[i].embedding, faces[j].embedding) >= SAME_PERSON
                ):
                    parent[root(j)] = root(i)
        members: dict[int, list[str]] = {}
        for index, face_id in enumerate(face_ids):
            members.setdefault(root(index), []).append(face_id)
        groups = sorted((m for m in members.values() if len(m) > 1), key=len, reverse=True)
        messy = [m[0] for m in members.values() if len(m) == 1]
        return json_response(200, {"groups": groups, "messyGroup": messy}, operation=operation)
