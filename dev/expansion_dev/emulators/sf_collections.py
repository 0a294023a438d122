"""sObject Collections: create, update and upsert up to 200 records a call.

A well-formed call answers 200 with one result per record in request order;
per-record failures carry `statusCode`. allOrNone rolls every record back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from expansion_dev.emulators import sf_ids
from expansion_dev.emulators.faults import RecordErrors
from expansion_dev.emulators.httpbase import Request, Response
from expansion_dev.emulators.schema import (
    ObjectSpec,
    lookup_object,
)
from expansion_dev.emulators.sf_base import SalesforceBase
from expansion_dev.emulators.sf_errors import ROLLED_BACK, ApiError, DmlError, not_found
from expansion_dev.emulators.sf_store import MultipleMatches, coerce_json

MAX_COLLECTION = 200


@dataclass
class _Item:
    """One record of a collection call: an action to run, or an error found before DML."""

    action: Callable[[], tuple[str, bool]] | None
    error: DmlError | None = None
    known_id: str | None = None


class CollectionEndpoints(SalesforceBase):
    # --- sObject Collections -------------------------------------------------------------

    def _collection_body(self, req: Request) -> tuple[list[Any], bool]:
        body = self.body_object(req)
        records = body.get("records")
        if not isinstance(records, list):
            raise ApiError(
                400, "JSON_PARSER_ERROR", "Cannot deserialize instance of List from records"
            )
        if len(records) > MAX_COLLECTION:
            raise ApiError(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than "
                f"{MAX_COLLECTION} records into this call",
            )
        return records, bool(body.get("allOrNone", False))

    @staticmethod
    def _record_type(record: Any, expected: ObjectSpec | None = None) -> ObjectSpec:
        if not isinstance(record, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject")
        attributes = record.get("attributes") or {}
        spec = lookup_object(str(attributes.get("type") or ""))
        if spec is None:
            raise DmlError("INVALID_TYPE", "Must send a concrete entity type.", [])
        if expected is not None and spec is not expected:
            raise DmlError("INVALID_TYPE", f"Record type mismatch: expected {expected.name}", [])
        return spec

    def _typed_values(self, record: dict[str, Any]) -> tuple[ObjectSpec, dict[str, Any]] | _Item:
        """A record's object and coerced values, or the failed item when its type is wrong."""
        try:
            spec = self._record_type(record)
        except DmlError as err:
            return _Item(None, err)
        return spec, coerce_json(spec, record)

    @staticmethod
    def _require_version(version: str, minimum: float) -> None:
        # sObject Collections exist from v42.0, their upsert from v46.0.
        if float(version) < minimum:
            raise not_found()

    def collection_create(self, req: Request, version: str) -> Response:
        self._require_version(version, 42.0)
        records, all_or_none = self._collection_body(req)
        items = [
            typed if isinstance(typed, _Item) else _Item(partial(self._create_one, *typed))
            for typed in map(self._typed_values, records)
        ]
        return self._run_collection(req, items, all_or_none, with_created=False)

    def collection_update(self, req: Request, version: str) -> Response:
        self._require_version(version, 42.0)
        records, all_or_none = self._collection_body(req)
        items = []
        for typed in map(self._typed_values, records):
            if isinstance(typed, _Item):
                items.append(typed)
                continue
            spec, values = typed
            raw_id = values.pop("Id", None)
            record_id = sf_ids.normalize(raw_id)
            if raw_id is None:
                items.append(
                    _Item(
                        None, DmlError("MISSING_ARGUMENT", "Id not specified in an update call", [])
                    )
                )
            elif record_id is None:
                items.append(_Item(None, DmlError("MALFORMED_ID", f"malformed id {raw_id}", [])))
            else:
                action = partial(self._update_one, spec, record_id, values)
                items.append(_Item(action, known_id=record_id))
        return self._run_collection(req, items, all_or_none, with_created=False)

    def collection_upsert(
        self, req: Request, version: str, object_name: str, field_name: str
    ) -> Response:
        self._require_version(version, 46.0)
        spec = lookup_object(object_name)
        if spec is None:
            raise not_found()
        ext_field = self._external_field(spec, field_name)
        records, all_or_none = self._collection_body(req)
        prepared: list[tuple[ObjectSpec | DmlError, dict[str, Any], str]] = []
        for record in records:
            try:
                self._record_type(record, spec)
            except DmlError as err:
                prepared.append((err, {}, ""))
                continue
            values = coerce_json(spec, record)
            key = values.get(ext_field)
            prepared.append((spec, values, "" if key is None else str(key)))
        seen: dict[str, int] = {}
        for _, _, key in prepared:
            if key:
                seen[key.lower()] = seen.get(key.lower(), 0) + 1
        items = []
        for target, values, key in prepared:
            if isinstance(target, DmlError):
                items.append(_Item(None, target))
            elif not key:
                items.append(
                    _Item(None, DmlError("MISSING_ARGUMENT", f"{ext_field} not specified", []))
                )
            elif seen[key.lower()] > 1:
                items.append(
                    _Item(
                        None,
                        DmlError(
                            "DUPLICATE_EXTERNAL_ID",
                            f"Duplicate external id specified: {key}",
                            [ext_field],
                        ),
                    )
                )
            else:
                items.append(_Item(partial(self._upsert_one, spec, ext_field, key, values)))
        return self._run_collection(req, items, all_or_none, with_created=True)

    def _create_one(self, spec: ObjectSpec, values: dict[str, Any]) -> tuple[str, bool]:
        return self.org.create(spec, values), True

    def _update_one(
        self, spec: ObjectSpec, record_id: str, values: dict[str, Any]
    ) -> tuple[str, bool]:
        self.org.update(spec, record_id, values)
        return record_id, False

    def _upsert_one(
        self, spec: ObjectSpec, ext_field: str, key: str, values: dict[str, Any]
    ) -> tuple[str, bool]:
        try:
            return self.org.upsert(spec, ext_field, key, values)
        except MultipleMatches as many:
            raise DmlError(
                "DUPLICATE_EXTERNAL_ID",
                f"{ext_field}: more than one record found for external id field: "
                f"[{', '.join(many.ids)}]",
                [ext_field],
            ) from None

    def _run_collection(
        self, req: Request, items: list[_Item], all_or_none: bool, with_created: bool
    ) -> Response:
        """Run the records in request order; allOrNone rolls every one back if any fails."""
        fault = self.faults.take(
            req.method, req.target, self.classify(req), req.body, (RecordErrors,)
        )
        if isinstance(fault, RecordErrors):
            chosen = range(len(items)) if fault.indexes is None else fault.indexes
            for index in chosen:
                if 0 <= index < len(items):
                    items[index] = _Item(
                        None, DmlError(fault.status_code, fault.message, []), items[index].known_id
                    )
        outcomes: list[tuple[str, bool] | DmlError] = []
        with self.org.lock:
            self.org.begin()
            for item in items:
                if item.error is not None or item.action is None:
                    outcomes.append(item.error or ROLLED_BACK)
                    continue
                try:
                    outcomes.append(item.action())
                except DmlError as err:
                    outcomes.append(err)
            failed = any(isinstance(o, DmlError) for o in outcomes)
            if all_or_none and failed:
                self.org.rollback()
                outcomes = [o if isinstance(o, DmlError) else ROLLED_BACK for o in outcomes]
            else:
                self.org.commit()
        results = []
        for item, outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, DmlError):
                result: dict[str, Any] = {"success": False, "errors": [outcome.as_dict()]}
                if item.known_id:
                    result = {"id": item.known_id, **result}
            else:
                result = {"id": outcome[0], "success": True, "errors": []}
                if with_created:
                    result["created"] = outcome[1]
            results.append(result)
        return self.ok(200, results)
