"""The operation groups of the clients, sync and async side by side.

Each line binds one pure builder; the sync and async classes list the same names in the same
order, and a test checks that every signature matches its twin.
"""

from __future__ import annotations

from . import content_safety, detection, liveness, recognition
from ._kinds import FACE_LISTS, LARGE_FACE_LISTS, LARGE_PERSON_GROUPS, PERSON_GROUPS
from ._shell import (
    AsyncGroup,
    SyncGroup,
    async_call,
    async_pages,
    async_train,
    sync_call,
    sync_pages,
    sync_train,
)

__all__ = [
    "AsyncBlocklists",
    "AsyncDetection",
    "AsyncFaceLists",
    "AsyncLargeFaceLists",
    "AsyncLargePersonGroups",
    "AsyncLiveness",
    "AsyncPersonGroups",
    "AsyncRecognition",
    "Blocklists",
    "Detection",
    "FaceLists",
    "LargeFaceLists",
    "LargePersonGroups",
    "Liveness",
    "PersonGroups",
    "Recognition",
]


class Detection(SyncGroup):
    """Face detection (``client.detection``)."""

    detect = sync_call(detection.detect)
    detect_from_session_image = sync_call(detection.detect_from_session_image)


class AsyncDetection(AsyncGroup):
    """Face detection (``client.detection``)."""

    detect = async_call(detection.detect)
    detect_from_session_image = async_call(detection.detect_from_session_image)


class Recognition(SyncGroup):
    """Verify, identify, find-similar and group (``client.recognition``)."""

    verify_face_to_face = sync_call(recognition.verify_face_to_face)
    verify_from_person_group = sync_call(recognition.verify_from_person_group)
    verify_from_large_person_group = sync_call(recognition.verify_from_large_person_group)
    verify_from_person_directory = sync_call(recognition.verify_from_person_directory)
    identify_from_person_group = sync_call(recognition.identify_from_person_group)
    identify_from_large_person_group = sync_call(recognition.identify_from_large_person_group)
    identify_from_person_directory = sync_call(recognition.identify_from_person_directory)
    identify_from_dynamic_person_group = sync_call(recognition.identify_from_dynamic_person_group)
    find_similar = sync_call(recognition.find_similar)
    find_similar_from_face_list = sync_call(recognition.find_similar_from_face_list)
    find_similar_from_large_face_list = sync_call(recognition.find_similar_from_large_face_list)
    group = sync_call(recognition.group)


class AsyncRecognition(AsyncGroup):
    """Verify, identify, find-similar and group (``client.recognition``)."""

    verify_face_to_face = async_call(recognition.verify_face_to_face)
    verify_from_person_group = async_call(recognition.verify_from_person_group)
    verify_from_large_person_group = async_call(recognition.verify_from_large_person_group)
    verify_from_person_directory = async_call(recognition.verify_from_person_directory)
    identify_from_person_group = async_call(recognition.identify_from_person_group)
    identify_from_large_person_group = async_call(recognition.identify_from_large_person_group)
    identify_from_person_directory = async_call(recognition.identify_from_person_directory)
    identify_from_dynamic_person_group = async_call(recognition.identify_from_dynamic_person_group)
    find_similar = async_call(recognition.find_similar)
    find_similar_from_face_list = async_call(recognition.find_similar_from_face_list)
    find_similar_from_large_face_list = async_call(recognition.find_similar_from_large_face_list)
    group = async_call(recognition.group)


class FaceLists(SyncGroup):
    """Face lists: up to 1,000 faces for find-similar (``client.face_lists``)."""

    create = sync_call(FACE_LISTS.create)
    get = sync_call(FACE_LISTS.get)
    update = sync_call(FACE_LISTS.update)
    delete = sync_call(FACE_LISTS.delete)
    list = sync_call(FACE_LISTS.list_containers)
    add_face = sync_call(FACE_LISTS.add_face)
    delete_face = sync_call(FACE_LISTS.delete_face)


class AsyncFaceLists(AsyncGroup):
    """Face lists: up to 1,000 faces for find-similar (``client.face_lists``)."""

    create = async_call(FACE_LISTS.create)
    get = async_call(FACE_LISTS.get)
    update = async_call(FACE_LISTS.update)
    delete = async_call(FACE_LISTS.delete)
    list = async_call(FACE_LISTS.list_containers)
    add_face = async_call(FACE_LISTS.add_face)
    delete_face = async_call(FACE_LISTS.delete_face)


class LargeFaceLists(SyncGroup):
    """Large face lists: up to 1,000,000 faces, trained (``client.large_face_lists``)."""

    create = sync_call(LARGE_FACE_LISTS.create)
    get = sync_call(LARGE_FACE_LISTS.get)
    update = sync_call(LARGE_FACE_LISTS.update)
    delete = sync_call(LARGE_FACE_LISTS.delete)
    list = sync_pages(LARGE_FACE_LISTS.list_containers)
    train = sync_train(LARGE_FACE_LISTS.train)
    get_training_status = sync_call(LARGE_FACE_LISTS.get_training_status)
    add_face = sync_call(LARGE_FACE_LISTS.add_face)
    list_faces = sync_pages(LARGE_FACE_LISTS.list_faces)
    get_face = sync_call(LARGE_FACE_LISTS.get_face)
    update_face = sync_call(LARGE_FACE_LISTS.update_face)
    delete_face = sync_call(LARGE_FACE_LISTS.delete_face)


class AsyncLargeFaceLists(AsyncGroup):
    """Large face lists: up to 1,000,000 faces, trained (``client.large_face_lists``)."""

    create = async_call(LARGE_FACE_LISTS.create)
    get = async_call(LARGE_FACE_LISTS.get)
    update = async_call(LARGE_FACE_LISTS.update)
    delete = async_call(LARGE_FACE_LISTS.delete)
    list = async_pages(LARGE_FACE_LISTS.list_containers)
    train = async_train(LARGE_FACE_LISTS.train)
    get_training_status = async_call(LARGE_FACE_LISTS.get_training_status)
    add_face = async_call(LARGE_FACE_LISTS.add_face)
    list_faces = async_pages(LARGE_FACE_LISTS.list_faces)
    get_face = async_call(LARGE_FACE_LISTS.get_face)
    update_face = async_call(LARGE_FACE_LISTS.update_face)
    delete_face = async_call(LARGE_FACE_LISTS.delete_face)


class PersonGroups(SyncGroup):
    """Person groups: up to 10,000 persons, trained for identify (``client.person_groups``)."""

    create = sync_call(PERSON_GROUPS.create)
    get = sync_call(PERSON_GROUPS.get)
    update = sync_call(PERSON_GROUPS.update)
    delete = sync_call(PERSON_GROUPS.delete)
    list = sync_pages(PERSON_GROUPS.list_containers)
    train = sync_train(PERSON_GROUPS.train)
    get_training_status = sync_call(PERSON_GROUPS.get_training_status)
    create_person = sync_call(PERSON_GROUPS.create_person)
    get_person = sync_call(PERSON_GROUPS.get_person)
    update_person = sync_call(PERSON_GROUPS.update_person)
    delete_person = sync_call(PERSON_GROUPS.delete_person)
    list_persons = sync_pages(PERSON_GROUPS.list_persons)
    add_face = sync_call(PERSON_GROUPS.add_face)
    get_face = sync_call(PERSON_GROUPS.get_face)
    update_face = sync_call(PERSON_GROUPS.update_face)
    delete_face = sync_call(PERSON_GROUPS.delete_face)


class AsyncPersonGroups(AsyncGroup):
    """Person groups: up to 10,000 persons, trained for identify (``client.person_groups``)."""

    create = async_call(PERSON_GROUPS.create)
    get = async_call(PERSON_GROUPS.get)
    update = async_call(PERSON_GROUPS.update)
    delete = async_call(PERSON_GROUPS.delete)
    list = async_pages(PERSON_GROUPS.list_containers)
    train = async_train(PERSON_GROUPS.train)
    get_training_status = async_call(PERSON_GROUPS.get_training_status)
    create_person = async_call(PERSON_GROUPS.create_person)
    get_person = async_call(PERSON_GROUPS.get_person)
    update_person = async_call(PERSON_GROUPS.update_person)
    delete_person = async_call(PERSON_GROUPS.delete_person)
    list_persons = async_pages(PERSON_GROUPS.list_persons)
    add_face = async_call(PERSON_GROUPS.add_face)
    get_face = async_call(PERSON_GROUPS.get_face)
    update_face = async_call(PERSON_GROUPS.update_face)
    delete_face = async_call(PERSON_GROUPS.delete_face)


class LargePersonGroups(SyncGroup):
    """Large person groups: up to 1,000,000 persons (``client.large_person_groups``)."""

    create = sync_call(LARGE_PERSON_GROUPS.create)
    get = sync_call(LARGE_PERSON_GROUPS.get)
    update = sync_call(LARGE_PERSON_GROUPS.update)
    delete = sync_call(LARGE_PERSON_GROUPS.delete)
    list = sync_pages(LARGE_PERSON_GROUPS.list_containers)
    train = sync_train(LARGE_PERSON_GROUPS.train)
    get_training_status = sync_call(LARGE_PERSON_GROUPS.get_training_status)
    create_person = sync_call(LARGE_PERSON_GROUPS.create_person)
    get_person = sync_call(LARGE_PERSON_GROUPS.get_person)
    update_person = sync_call(LARGE_PERSON_GROUPS.update_person)
    delete_person = sync_call(LARGE_PERSON_GROUPS.delete_person)
    list_persons = sync_pages(LARGE_PERSON_GROUPS.list_persons)
    add_face = sync_call(LARGE_PERSON_GROUPS.add_face)
    get_face = sync_call(LARGE_PERSON_GROUPS.get_face)
    update_face = sync_call(LARGE_PERSON_GROUPS.update_face)
    delete_face = sync_call(LARGE_PERSON_GROUPS.delete_face)


class AsyncLargePersonGroups(AsyncGroup):
    """Large person groups: up to 1,000,000 persons (``client.large_person_groups``)."""

    create = async_call(LARGE_PERSON_GROUPS.create)
    get = async_call(LARGE_PERSON_GROUPS.get)
    update = async_call(LARGE_PERSON_GROUPS.update)
    delete = async_call(LARGE_PERSON_GROUPS.delete)
    list = async_pages(LARGE_PERSON_GROUPS.list_containers)
    train = async_train(LARGE_PERSON_GROUPS.train)
    get_training_status = async_call(LARGE_PERSON_GROUPS.get_training_status)
    create_person = async_call(LARGE_PERSON_GROUPS.create_person)
    get_person = async_call(LARGE_PERSON_GROUPS.get_person)
    update_person = async_call(LARGE_PERSON_GROUPS.update_person)
    delete_person = async_call(LARGE_PERSON_GROUPS.delete_person)
    list_persons = async_pages(LARGE_PERSON_GROUPS.list_persons)
    add_face = async_call(LARGE_PERSON_GROUPS.add_face)
    get_face = async_call(LARGE_PERSON_GROUPS.get_face)
    update_face = async_call(LARGE_PERSON_GROUPS.update_face)
    delete_face = async_call(LARGE_PERSON_GROUPS.delete_face)


class Liveness(SyncGroup):
    """Liveness sessions, with and without verification (``client.liveness``)."""

    create_session = sync_call(liveness.create_session)
    get_session_result = sync_call(liveness.get_session_result)
    delete_session = sync_call(liveness.delete_session)
    create_with_verify_session = sync_call(liveness.create_with_verify_session)
    get_with_verify_session_result = sync_call(liveness.get_with_verify_session_result)
    delete_with_verify_session = sync_call(liveness.delete_with_verify_session)
    get_session_image = sync_call(liveness.get_session_image)


class AsyncLiveness(AsyncGroup):
    """Liveness sessions, with and without verification (``client.liveness``)."""

    create_session = async_call(liveness.create_session)
    get_session_result = async_call(liveness.get_session_result)
    delete_session = async_call(liveness.delete_session)
    create_with_verify_session = async_call(liveness.create_with_verify_session)
    get_with_verify_session_result = async_call(liveness.get_with_verify_session_result)
    delete_with_verify_session = async_call(liveness.delete_with_verify_session)
    get_session_image = async_call(liveness.get_session_image)


class Blocklists(SyncGroup):
    """Content Safety text blocklists and their items (``client.blocklists``)."""

    create_or_update = sync_call(content_safety.create_or_update)
    get = sync_call(content_safety.get)
    delete = sync_call(content_safety.delete)
    list = sync_pages(content_safety.list_blocklists)
    add_or_update_items = sync_call(content_safety.add_or_update_items)
    remove_items = sync_call(content_safety.remove_items)
    list_items = sync_pages(content_safety.list_items)
    get_item = sync_call(content_safety.get_item)


class AsyncBlocklists(AsyncGroup):
    """Content Safety text blocklists and their items (``client.blocklists``)."""

    create_or_update = async_call(content_safety.create_or_update)
    get = async_call(content_safety.get)
    delete = async_call(content_safety.delete)
    list = async_pages(content_safety.list_blocklists)
    add_or_update_items = async_call(content_safety.add_or_update_items)
    remove_items = async_call(content_safety.remove_items)
    list_items = async_pages(content_safety.list_items)
    get_item = async_call(content_safety.get_item)
