"""The emulated org's data: records, external-id indexes, validation and DML.

Every write goes through `create`, `update` or `upsert`, which validate against
the schema exactly as the REST, collections and Bulk endpoints need, and log an
undo entry so an allOrNone collection can be rolled back. Callers hold `lock`
for the duration of one request, which serialises DML the way row locks would.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from expansion_dev.emulators import sf_ids
from expansion_dev.emulators.schema import (
    BOOLEAN,
    CLOSED_STAGES,
    DATE,
    EMAIL,
    NUMBER_TYPES,
    PREFIXES,
    REFERENCE,
    TEXT_TYPES,
    FieldSpec,
    ObjectSpec,
    lookup_object,
)
from expansion_dev.emulators.sf_errors import ApiError, DmlError

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
READ_ONLY_IGNORED = frozenset({"attributes"})


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _parser_error(spec: FieldSpec, value: Any) -> ApiError:
    kind = type(value).__name__.upper()
    return ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {spec.type} from VALUE_{kind} value {value} "
        "or request may be missing a required field",
    )


def unknown_field(spec: ObjectSpec, name: str) -> ApiError:
    return ApiError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {spec.name}")


def coerce_json(spec: ObjectSpec, payload: dict[str, Any]) -> dict[str, Any]:
    """JSON body -> {canonical field name: value}; type errors fail the whole request.

    Salesforce deserialises the body before any DML, so an unknown field or a
    value of the wrong JSON type is a top-level 400, not a per-record error.
    """
    values: dict[str, Any] = {}
    for name, value in payload.items():
        if name in READ_ONLY_IGNORED:
            continue
        fspec = spec.field(name)
        if fspec is None:
            raise unknown_field(spec, name)
        values[fspec.name] = _coerce_json_value(fspec, value)
    return values


def _coerce_json_value(fspec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    if fspec.type in TEXT_TYPES or fspec.type in (REFERENCE, "id"):
        if isinstance(value, dict | list):
            raise _parser_error(fspec, value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    if fspec.type == DATE:
        if not isinstance(value, str) or not DATE_RE.match(value[:10]):
            raise _parser_error(fspec, value)
        return value[:10]
    if fspec.type == BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _parser_error(fspec, value)
    if fspec.type in NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _parser_error(fspec, value)
        try:
            return float(value)
        except ValueError:
            raise _parser_error(fspec, value) from None
    return value


def coerce_csv_value(fspec: FieldSpec, raw: str, column: int) -> Any:
    """One Bulk CSV cell -> value; a bad cell fails only its row."""
    if raw == "#N/A":  # Bulk's way to set a field to null; an empty cell leaves it alone
        return None
    try:
        if fspec.type == BOOLEAN:
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return lowered in ("true", "1")
        if fspec.type in NUMBER_TYPES:
            return float(raw)
        if fspec.type == DATE:
            if not DATE_RE.match(raw[:10]):
                raise ValueError(raw)
            return raw[:10]
    except ValueError:
        raise DmlError(
            "INVALID_FIELD",
            f"Failed to deserialize field at col {column}. Due to, '{raw}' is not a valid value "
            f"for the type xsd:{fspec.type}",
            [fspec.name],
        ) from None
    return raw


@dataclass
class _Undo:
    action: str  # "insert" | "update" | "delete"
    sobject: str
    record_id: str
    before: dict[str, Any] | None


class Org:
    """In-memory records of every object, keyed by 18-character id."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.ids = sf_ids.IdFactory()
        self._default_clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.clock = self._default_clock  # a test may set a fixed one; clear() puts this back
        self.current_user_id: str | None = None
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        # (object, field) -> lower-cased value -> ids; lists, since a non-unique
        # external id can match several records (the 300 case).
        self._index: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._undo: list[_Undo] | None = None  # only inside begin()/commit()

    # --- reads ---------------------------------------------------------------------------

    def records(self, sobject: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self._records.get(sobject, {}).values()]

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self._records.get(sobject, {}).get(record_id)

    def object_of(self, record_id: str) -> ObjectSpec | None:
        spec = PREFIXES.get(record_id[:3])
        if spec is None or self.get(spec.name, record_id) is None:
            return None
        return spec

    def find(self, spec: ObjectSpec, field: str, value: str) -> list[str]:
        with self.lock:
            return list(self._index.get((spec.name, field), {}).get(value.lower(), ()))

    # --- DML -----------------------------------------------------------------------------

    def create(self, spec: ObjectSpec, values: dict[str, Any], *, validate: bool = True) -> str:
        """Insert one record; `validate=False` is for seeding data a test needs as-is."""
        with self.lock:
            if validate:
                if "Id" in values:
                    raise DmlError(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "cannot specify Id in an insert call",
                        ["Id"],
                    )
                self._check_writable(spec, values)
                values = dict(values)
                self._check_values(spec, values)
            record = {f.name: f.default for f in spec.fields}
            record.update(values)
            if spec.field("OwnerId") and not record.get("OwnerId"):
                record["OwnerId"] = self.current_user_id
            if validate:
                self._check_required(spec, record)
                self._check_unique(spec, record, None)
            record_id = self.ids.next(spec.key_prefix)
            now = timestamp(self.clock())
            record.update(
                Id=record_id,
                CreatedDate=now,
                LastModifiedDate=now,
                SystemModstamp=now,
                CreatedById=self.current_user_id,
                LastModifiedById=self.current_user_id,
                IsDeleted=False,
            )
            self._derive(spec, record)
            self._put(spec, record)
            self._log(_Undo("insert", spec.name, record_id, None))
            return record_id

    def put_fixed(self, spec: ObjectSpec, record_id: str, values: dict[str, Any]) -> None:
        """A record with an Id of the org's own (the Organization record), as it stands."""
        with self.lock:
            now = timestamp(self.clock())
            record = {f.name: f.default for f in spec.fields}
            record.update(values, Id=record_id, CreatedDate=now, LastModifiedDate=now,
                          SystemModstamp=now, IsDeleted=False)
            self._put(spec, record)

    def update(self, spec: ObjectSpec, record_id: str, values: dict[str, Any]) -> None:
        with self.lock:
            before = self.get(spec.name, record_id)
            if before is None:
                raise DmlError("ENTITY_IS_DELETED", "entity is deleted", [])
            self._check_writable(spec, values)
            values = dict(values)
            self._check_values(spec, values)
            after = {**before, **values}
            missing = [
                f.name
                for f in spec.fields
                if f.required and f.name in values and after.get(f.name) is None
            ]
            if missing:
                raise _required(missing)
            self._check_unique(spec, after, record_id)
            after["LastModifiedDate"] = after["SystemModstamp"] = timestamp(self.clock())
            after["LastModifiedById"] = self.current_user_id
            self._derive(spec, after)
            self._remove(spec, before)
            self._put(spec, after)
            self._log(_Undo("update", spec.name, record_id, before))

    def upsert(
        self,
        spec: ObjectSpec,
        ext_field: str,
        ext_value: str,
        values: dict[str, Any],
        *,
        update_only: bool = False,
    ) -> tuple[str, bool]:
        """Create or update by external id; returns (id, created).

        Raises MultipleMatches when several records carry the value and
        LookupError under `update_only` when none does.
        """
        with self.lock:
            values = {k: v for k, v in values.items() if k != ext_field}
            matches = self.find(spec, ext_field, ext_value)
            if len(matches) > 1:
                raise MultipleMatches(matches)
            if matches:
                self.update(spec, matches[0], values)
                return matches[0], False
            if update_only:
                raise LookupError(ext_value)
            return self.create(spec, {**values, ext_field: ext_value}), True

    def delete(self, spec: ObjectSpec, record_id: str) -> None:
        with self.lock:
            before = self.get(spec.name, record_id)
            if before is None:
                raise DmlError("ENTITY_IS_DELETED", "entity is deleted", [])
            self._remove(spec, before)
            self._log(_Undo("delete", spec.name, record_id, before))

    # --- transactions --------------------------------------------------------------------

    def begin(self) -> None:
        """Start logging undo entries (one allOrNone collection); caller holds `lock`."""
        self._undo = []

    def rollback(self) -> None:
        with self.lock:
            for undo in reversed(self._undo or []):
                spec = lookup_object(undo.sobject)
                assert spec is not None
                current = self.get(spec.name, undo.record_id)
                if current is not None:
                    self._remove(spec, current)
                if undo.before is not None:
                    self._put(spec, undo.before)
            self._undo = None

    def commit(self) -> None:
        with self.lock:
            self._undo = None

    def clear(self) -> None:
        with self.lock:
            self._records.clear()
            self._index.clear()
            self._undo = None
            self.ids.reset()
            self.current_user_id = None
            self.clock = self._default_clock

    def iter_records(self, spec: ObjectSpec) -> Iterator[dict[str, Any]]:
        with self.lock:
            yield from list(self._records.get(spec.name, {}).values())

    # --- internals -----------------------------------------------------------------------

    def _log(self, undo: _Undo) -> None:
        if self._undo is not None:
            self._undo.append(undo)

    def _put(self, spec: ObjectSpec, record: dict[str, Any]) -> None:
        self._records.setdefault(spec.name, {})[record["Id"]] = record
        for fspec in spec.external_ids:
            value = record.get(fspec.name)
            if value not in (None, ""):
                bucket = self._index.setdefault((spec.name, fspec.name), {})
                bucket.setdefault(str(value).lower(), []).append(record["Id"])

    def _remove(self, spec: ObjectSpec, record: dict[str, Any]) -> None:
        self._records.get(spec.name, {}).pop(record["Id"], None)
        for fspec in spec.external_ids:
            value = record.get(fspec.name)
            if value not in (None, ""):
                ids = self._index.get((spec.name, fspec.name), {}).get(str(value).lower(), [])
                if record["Id"] in ids:
                    ids.remove(record["Id"])

    @staticmethod
    def _derive(spec: ObjectSpec, record: dict[str, Any]) -> None:
        if spec.name == "User":
            record["Name"] = " ".join(
                p for p in (record.get("FirstName"), record.get("LastName")) if p
            )
        if spec.name == "Opportunity":
            stage = record.get("StageName")
            record["IsClosed"] = stage in CLOSED_STAGES
            record["IsWon"] = CLOSED_STAGES.get(stage, False)

    @staticmethod
    def _check_writable(spec: ObjectSpec, values: dict[str, Any]) -> None:
        locked = [name for name in values if not spec.by_lower[name.lower()].writable]
        if locked:
            raise DmlError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                locked,
            )

    def _check_values(self, spec: ObjectSpec, values: dict[str, Any]) -> None:
        for name, value in values.items():
            fspec = spec.field(name)
            assert fspec is not None
            if value is None:
                continue
            if fspec.length is not None and len(value) > fspec.length:
                raise DmlError(
                    "STRING_TOO_LONG",
                    f"{fspec.display}: data value too large: {value[:60]} "
                    f"(max length={fspec.length})",
                    [fspec.name],
                )
            if fspec.picklist and value not in fspec.picklist:
                raise DmlError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{fspec.display}: bad value for restricted picklist field: {value}",
                    [fspec.name],
                )
            if fspec.type == EMAIL and not EMAIL_RE.match(value):
                raise DmlError(
                    "INVALID_EMAIL_ADDRESS",
                    f"{fspec.display}: invalid email address: {value}",
                    [fspec.name],
                )
            if fspec.type == REFERENCE:
                values[name] = self._check_reference(fspec, value)

    def _check_reference(self, fspec: FieldSpec, value: str) -> str:
        normalized = sf_ids.normalize(value)
        if normalized is None:
            raise DmlError(
                "MALFORMED_ID",
                f"{fspec.display}: id value of incorrect type: {value}",
                [fspec.name],
            )
        target = self.object_of(normalized)
        if target is None or target.name not in fspec.reference_to:
            raise DmlError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [fspec.name]
            )
        if target.name == "User" and fspec.name == "OwnerId":
            user = self.get("User", normalized) or {}
            if not user.get("IsActive", True):
                raise DmlError(
                    "INACTIVE_OWNER_OR_USER", "operation performed with inactive user", []
                )
        return normalized

    @staticmethod
    def _check_required(spec: ObjectSpec, record: dict[str, Any]) -> None:
        missing = [f.name for f in spec.fields if f.required and record.get(f.name) in (None, "")]
        if missing:
            raise _required(missing)

    def _check_unique(self, spec: ObjectSpec, record: dict[str, Any], own_id: str | None) -> None:
        for fspec in spec.external_ids:
            value = record.get(fspec.name)
            if not fspec.unique or value in (None, ""):
                continue
            others = [i for i in self.find(spec, fspec.name, str(value)) if i != own_id]
            if others:
                raise DmlError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {fspec.name} duplicates value on record "
                    f"with id: {others[0]}",
                    [],
                )


class MultipleMatches(Exception):
    def __init__(self, ids: list[str]) -> None:
        super().__init__(ids)
        self.ids = ids


def _required(missing: list[str]) -> DmlError:
    return DmlError(
        "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
    )
