"""Readable, stable unit ids: a force's data.police.uk slug, children '/'-joined below it."""

from __future__ import annotations

import re
import unicodedata


def slugify(name: str) -> str:
    """'Cheshire West and Chester' -> 'cheshire-west-and-chester' (the data.police.uk style)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text or "unnamed"


def child_id(parent_id: str, name: str) -> str:
    return f"{parent_id}/{slugify(name)}"


def force_of(unit_id: str) -> str:
    return unit_id.split("/", 1)[0]


def parent_of(unit_id: str) -> str | None:
    return unit_id.rsplit("/", 1)[0] if "/" in unit_id else None
