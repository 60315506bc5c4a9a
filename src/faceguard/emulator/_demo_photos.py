"""The demo's photo folder: where it is, and who is in it, from its ``manifest.json``.

``faceguard demo --images DIR`` takes any folder laid out like ``tests/data/faces``: a
``manifest.json`` whose ``images`` list names each photo (``file``, relative to the folder),
who it shows (``identity``) and how many clear faces it has (``faces``). The demo uses the
photos of one face with an identity, two or more per person: the first is enrolled, the
second held out to identify. A folder that does not fit is refused before anything runs, with
what to change, instead of a ``KeyError`` from the middle of the demo.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from .._exceptions import InvalidInputError

__all__ = ["DEFAULT_IMAGE_DIRS", "find_images", "read_people"]

DEFAULT_IMAGE_DIRS = (Path("examples/data/faces"), Path("tests/data/faces"))


def find_images(images: Path | None) -> Path:
    """The folder to use: ``images``, else the first default holding a ``manifest.json``.

    Raises:
        FileNotFoundError: no such folder has a ``manifest.json``.
    """
    candidates = [images] if images is not None else list(DEFAULT_IMAGE_DIRS)
    for folder in candidates:
        if folder is not None and (folder / "manifest.json").is_file():
            return folder
    wanted = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"no photo folder with a manifest.json found ({wanted}); run the demo from a checkout "
        "of faceguard or pass --images DIR"
    )


def _invalid(message: str) -> InvalidInputError:
    return InvalidInputError("images", "manifest", message)


def _entries(folder: Path) -> list[dict[str, object]]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise _invalid("manifest.json is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _invalid(f"manifest.json is not valid JSON (line {exc.lineno})") from None
    images = manifest.get("images") if isinstance(manifest, dict) else None
    if not isinstance(images, list):
        raise _invalid('manifest.json has no "images" list')
    for index, entry in enumerate(images):
        if not isinstance(entry, dict):
            raise _invalid(f"manifest.json: images[{index}] is not an object")
        if not isinstance(entry.get("file"), str) or not entry["file"]:
            raise _invalid(
                f"manifest.json: images[{index}].file must be the photo's path in the folder"
            )
    return images


def read_people(folder: Path) -> dict[str, list[Path]]:
    """Photos of one face each, by identity, in manifest order (two or more per person).

    Raises:
        InvalidInputError: the manifest is not JSON, not laid out as above, or names fewer
            than two people with two photos each.
        FileNotFoundError: a photo the demo would use is not in the folder.
    """
    people: dict[str, list[Path]] = defaultdict(list)
    for entry in _entries(folder):
        identity, file = entry.get("identity"), str(entry["file"])
        one_face = entry.get("faces") == 1 and isinstance(identity, str) and identity
        # tests/data/faces keeps resized copies of some photos under sizes/: not new photos
        if one_face and "sizes/" not in file:
            people[str(identity)].append(folder / file)
    usable = {name: photos for name, photos in people.items() if len(photos) >= 2}
    if len(usable) < 2:
        raise _invalid(
            "the demo needs at least two people with two photos of one face each (entries "
            f'with an "identity" and "faces": 1 in manifest.json); found {len(usable)}'
        )
    for photos in usable.values():
        for photo in photos[:2]:
            if not photo.is_file():
                raise FileNotFoundError(f"{photo} is listed in manifest.json but not found")
    return usable
