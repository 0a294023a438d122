"""Salesforce record ids: 15-character case-sensitive ids and their 18-character form.

The three-character key prefix names the object (001 Account, 005 User, ...),
which is how the emulator tells a wrong-type lookup id from a missing one.
Ids are issued from per-prefix counters, so a reset emulator hands out the
same ids in the same order.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
POD = "5E"  # stands in for the instance/pod characters of a real id
ID_SHAPE = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")


def checksum(id15: str) -> str:
    """The three-character case-safe suffix: one bit per upper-case letter, five per chunk."""
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(id15[start : start + 5]) if "A" <= ch <= "Z")
        suffix += SUFFIX_ALPHABET[bits]
    return suffix


def to18(id15: str) -> str:
    return id15 + checksum(id15)


def normalize(value: object) -> str | None:
    """The 18-character form of a well-formed 15/18-character id, else None."""
    if not isinstance(value, str) or not ID_SHAPE.match(value):
        return None
    if len(value) == 18:
        # An 18-char id whose suffix does not match its body is malformed.
        return value if checksum(value[:15]) == value[15:].upper() else None
    return to18(value)


def _base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, rem = divmod(number, 62)
        digits = BASE62[rem] + digits
    return digits.rjust(width, "0")


class IdFactory:
    """Deterministic, thread-safe id issuer."""

    def __init__(self) -> None:
        self._counters: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def next(self, prefix: str) -> str:
        with self._lock:
            self._counters[prefix] += 1
            number = self._counters[prefix]
        return to18(prefix + POD + _base62(number, 10))

    def reset(self) -> None:
        with self._lock:
            self._counters.clear()
