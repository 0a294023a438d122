"""The Salesforce REST and Bulk 2.0 endpoints, over the emulated org.

Routing, auth, the daily API counter and the `Sforce-Limit-Info` header live
here; data rules live in sf_store, SOQL in soql, Bulk jobs in sf_bulk. Status
codes and bodies follow ../shared/reference/salesforce_slack_api.md §1-2.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qs, unquote

from sync.emulators import sf_ids, soql
from sync.emulators.faults import SF_JSON, BulkJobFails, Effect, RecordErrors
from sync.emulators.httpbase import EmulatorApp, Request, Response, json_response
from sync.emulators.schema import (
    BULK_JOB_PREFIX,
    OBJECTS,
    ORG_ID_PREFIX,
    QUERY_LOCATOR_PREFIX,
    ObjectSpec,
    describe,
    lookup_object,
)
from sync.emulators.sf_bulk import DELIMITERS, LINE_ENDINGS, OPERATIONS, TERMINAL, BulkJob
from sync.emulators.sf_errors import ROLLED_BACK, ApiError, DmlError, not_found
from sync.emulators.sf_store import MultipleMatches, Org, coerce_json, timestamp

VERSION_PATH = re.compile(r"^/services/data/v(\d+\.\d+)(/.*)?$")
MAX_COLLECTION = 200
SUPPORTED_VERSIONS = [f"{v}.0" for v in range(42, 63)]
WRITE_KINDS = frozenset(
    {
        "sobject.create",
        "sobject.update",
        "sobject.upsert",
        "sobject.delete",
        "composite.create",
        "composite.update",
        "composite.upsert",
        "bulk2.create",
        "bulk2.upload",
        "bulk2.close",
        "bulk2.abort",
        "bulk2.delete",
    }
)
UNMETERED_KINDS = frozenset({"versions", "oauth.token"})


@dataclass
class Route:
    kind: str
    handler: Callable[..., Response]
    args: tuple[Any, ...] = ()
    version: str = "59.0"


@dataclass
class _Item:
    """One record of a collection call: an action to run, or an error found before DML."""

    action: Callable[[], tuple[str, bool]] | None
    error: DmlError | None = None
    known_id: str | None = None


@dataclass
class SalesforceSettings:
    api_limit: int = 100_000  # daily allocation (Enterprise base); a Developer Edition has 15,000
    bulk_batch_limit: int = 15_000  # rolling 24 h, shared by Bulk 1.0 and 2.0
    query_page_size: int = 2000
    bulk_polls_in_progress: int = 0  # polls answered InProgress before a job completes
    client_id: str = "emulator-client-id"
    client_secret: str = "emulator-client-secret"


class SalesforceApp(EmulatorApp):
    control_content_type = SF_JSON

    def __init__(self) -> None:
        super().__init__()
        self.org = Org()
        self.settings = SalesforceSettings()
        self.api_used = 0
        self.bulk_batches_used = 0
        self.instance_url = ""
        self.org_id = sf_ids.to18(ORG_ID_PREFIX + sf_ids.POD + "0000000001")
        self.sessions: dict[str, bool] = {}  # token -> still valid
        self._cursors: dict[str, list[dict[str, Any]]] = {}
        self._jobs: dict[str, BulkJob] = {}

    # --- pipeline hooks ------------------------------------------------------------------

    def classify(self, req: Request) -> str:
        return self.route(req).kind

    def handle(self, req: Request, kind: str) -> Response:
        route = self.route(req)
        try:
            # One request at a time touches the org, the jobs and the counters; latency
            # and injected delays are slept outside this lock, so the server stays concurrent.
            with self.org.lock:
                if route.kind not in UNMETERED_KINDS:
                    self._authorize(req)
                    self._meter()
                return route.handler(req, route.version, *route.args)
        except ApiError as err:
            return self.error(err)

    def finalize(self, req: Request, kind: str, resp: Response, effect: Effect | None) -> Response:
        if kind not in UNMETERED_KINDS:
            used = (
                self.settings.api_limit
                if getattr(effect, "name", "") == "daily_limit"
                else self.api_used
            )
            resp.headers.setdefault(
                "Sforce-Limit-Info", f"api-usage={used}/{self.settings.api_limit}"
            )
        return resp

    def internal_error(self, exc: BaseException) -> Response:
        return self.error(
            ApiError(
                500, "UNKNOWN_EXCEPTION", f"An unexpected error occurred. ({type(exc).__name__})"
            )
        )

    def _authorize(self, req: Request) -> None:
        header = req.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not self.sessions.get(token.strip()):
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")

    def _meter(self) -> None:
        # Every REST call, each composite call and each Bulk request counts as one.
        if self.api_used >= self.settings.api_limit:
            raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        self.api_used += 1

    # --- responses -----------------------------------------------------------------------

    @staticmethod
    def ok(status: int, data: Any) -> Response:
        return json_response(status, data, SF_JSON)

    @staticmethod
    def error(err: ApiError) -> Response:
        return json_response(err.status, err.body(), SF_JSON)

    @staticmethod
    def body_json(req: Request) -> Any:
        try:
            return req.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}") from None

    def body_object(self, req: Request) -> dict[str, Any]:
        data = self.body_json(req)
        if not isinstance(data, dict):
            raise ApiError(
                400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject from START_ARRAY"
            )
        return data

    @staticmethod
    def record_url(version: str, spec: ObjectSpec, record_id: str) -> str:
        return f"/services/data/v{version}/sobjects/{spec.name}/{record_id}"

    def record_json(
        self, version: str, spec: ObjectSpec, record: dict[str, Any], names: list[str] | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attributes": {"type": spec.name, "url": self.record_url(version, spec, record["Id"])}
        }
        for fspec in spec.fields if names is None else [spec.field(n) for n in names]:
            if fspec is not None:
                out[fspec.name] = record.get(fspec.name)
        return out

    # --- routing -------------------------------------------------------------------------

    def route(self, req: Request) -> Route:
        path, method = req.path, req.method
        if path.rstrip("/") == "/services/data":
            return Route("versions", self.versions)
        if path.rstrip("/") == "/services/oauth2/token":
            return Route("oauth.token", self.oauth_token)
        match = VERSION_PATH.match(path)
        if not match:
            return Route("unknown", self.not_found)
        version = match.group(1)
        # Split before decoding: a %2F inside an external id stays in its segment.
        parts = [unquote(p) for p in (match.group(2) or "").split("/") if p]

        def make(kind: str, handler: Callable[..., Response], *args: Any) -> Route:
            return Route(kind, handler, args, version)

        def by_method(table: dict[str, tuple[str, Callable[..., Response]]], *args: Any) -> Route:
            if method not in table:
                return make("method_not_allowed", self.method_not_allowed, sorted(table))
            kind, handler = table[method]
            return make(kind, handler, *args)

        if not parts:
            return make("resources", self.resources)
        head, rest = parts[0], parts[1:]
        if head == "limits" and not rest:
            return make("limits", self.limits)
        if head == "sobjects":
            return self._route_sobjects(rest, make, by_method)
        if head in ("query", "queryAll"):
            if not rest:
                return make("query", self.query)
            return make("query.more", self.query_more, rest[0])
        if head == "composite" and rest[:1] == ["sobjects"]:
            if len(rest) == 1:
                return by_method(
                    {
                        "POST": ("composite.create", self.collection_create),
                        "PATCH": ("composite.update", self.collection_update),
                    }
                )
            if len(rest) == 3:
                return by_method({"PATCH": ("composite.upsert", self.collection_upsert)}, *rest[1:])
        if head == "jobs" and rest[:1] == ["ingest"]:
            return self._route_bulk(req, rest[1:], make, by_method)
        return make("unknown", self.not_found)

    def _route_sobjects(
        self, rest: list[str], make: Callable[..., Route], by_method: Callable[..., Route]
    ) -> Route:
        if not rest:
            return make("sobject.describe_global", self.describe_global)
        spec = lookup_object(rest[0])
        if spec is None:
            return make("sobject.unknown", self.not_found)
        if len(rest) == 1:
            return by_method(
                {"POST": ("sobject.create", self.create), "GET": ("sobject.info", self.info)}, spec
            )
        if len(rest) == 2 and rest[1] == "describe":
            return make("sobject.describe", self.describe, spec)
        if len(rest) == 2:
            return by_method(
                {
                    "GET": ("sobject.get", self.get),
                    "PATCH": ("sobject.update", self.update),
                    "DELETE": ("sobject.delete", self.delete),
                },
                spec,
                rest[1],
            )
        if len(rest) == 3:
            return by_method(
                {
                    "GET": ("sobject.get_by_external_id", self.get_by_external_id),
                    "PATCH": ("sobject.upsert", self.upsert),
                },
                spec,
                rest[1],
                rest[2],
            )
        return make("unknown", self.not_found)

    def _route_bulk(
        self,
        req: Request,
        rest: list[str],
        make: Callable[..., Route],
        by_method: Callable[..., Route],
    ) -> Route:
        if not rest:
            return by_method(
                {"POST": ("bulk2.create", self.bulk_create), "GET": ("bulk2.list", self.bulk_list)}
            )
        job_id = rest[0]
        if len(rest) == 1:
            close_kind = "bulk2.abort" if b"Aborted" in req.body else "bulk2.close"
            return by_method(
                {
                    "GET": ("bulk2.get", self.bulk_get),
                    "PATCH": (close_kind, self.bulk_set_state),
                    "DELETE": ("bulk2.delete", self.bulk_delete),
                },
                job_id,
            )
        if len(rest) == 2 and rest[1] == "batches":
            return by_method({"PUT": ("bulk2.upload", self.bulk_upload)}, job_id)
        if len(rest) == 2 and rest[1].lower() in (
            "successfulresults",
            "failedresults",
            "unprocessedrecords",
        ):
            # Salesforce documents `unprocessedrecords`; simple-salesforce asks for
            # `unprocessedRecords`.
            return by_method({"GET": ("bulk2.results", self.bulk_results)}, job_id, rest[1].lower())
        return make("unknown", self.not_found)

    # --- misc resources ------------------------------------------------------------------

    def not_found(self, req: Request, version: str, *args: Any) -> Response:
        raise not_found()

    def method_not_allowed(self, req: Request, version: str, allowed: list[str]) -> Response:
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"HTTP Method '{req.method}' not allowed. Allowed are {','.join(allowed)}",
        )

    def versions(self, req: Request, version: str) -> Response:
        return self.ok(
            200,
            [
                {"label": f"v{v}", "url": f"/services/data/v{v}", "version": v}
                for v in SUPPORTED_VERSIONS
            ],
        )

    def resources(self, req: Request, version: str) -> Response:
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "composite", "limits", "jobs")
        return self.ok(200, {name: f"{base}/{name}" for name in names})

    def limits(self, req: Request, version: str) -> Response:
        s = self.settings
        return self.ok(
            200,
            {
                "DailyApiRequests": {
                    "Max": s.api_limit,
                    "Remaining": max(0, s.api_limit - self.api_used),
                },
                "DailyBulkApiBatches": {
                    "Max": s.bulk_batch_limit,
                    "Remaining": max(0, s.bulk_batch_limit - self.bulk_batches_used),
                },
            },
        )

    def oauth_token(self, req: Request, version: str) -> Response:
        """OAuth 2.0 client-credentials (and refresh-token) flow on the instance URL."""
        form = {k: v[0] for k, v in parse_qs(req.text()).items()}
        grant = form.get("grant_type")
        valid = (
            grant == "client_credentials"
            and form.get("client_id") == self.settings.client_id
            and form.get("client_secret") == self.settings.client_secret
        ) or (grant == "refresh_token" and form.get("refresh_token") in self.sessions)
        if not valid:
            return self.ok(
                400, {"error": "invalid_client", "error_description": "invalid client credentials"}
            )
        token = self.issue_session()
        return self.ok(
            200,
            {
                "access_token": token,
                "instance_url": self.instance_url,
                "id": f"{self.instance_url}/id/{self.org_id}/{self.org.current_user_id}",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
                "signature": secrets.token_urlsafe(32),
                "scope": "api",
            },
        )

    def issue_session(self) -> str:
        token = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(48)}"
        self.sessions[token] = True
        return token

    # --- sObject rows --------------------------------------------------------------------

    def describe_global(self, req: Request, version: str) -> Response:
        sobjects = [
            {
                "name": o.name,
                "keyPrefix": o.key_prefix,
                "custom": o.name.endswith("__c"),
                "queryable": True,
            }
            for o in OBJECTS.values()
        ]
        return self.ok(
            200, {"encoding": "UTF-8", "maxBatchSize": MAX_COLLECTION, "sobjects": sobjects}
        )

    def describe(self, req: Request, version: str, spec: ObjectSpec) -> Response:
        return self.ok(200, describe(spec))

    def info(self, req: Request, version: str, spec: ObjectSpec) -> Response:
        return self.ok(
            200,
            {
                "objectDescribe": {"name": spec.name, "keyPrefix": spec.key_prefix},
                "recentItems": [],
            },
        )

    def create(self, req: Request, version: str, spec: ObjectSpec) -> Response:
        values = coerce_json(spec, self.body_object(req))
        try:
            record_id = self.org.create(spec, values)
        except DmlError as err:
            raise err.as_api() from None
        return self.ok(201, {"id": record_id, "success": True, "errors": []})

    def _existing(self, spec: ObjectSpec, raw_id: str) -> str:
        record_id = sf_ids.normalize(raw_id)
        if record_id is None:
            # A non-id segment is read as an external-id field name by Salesforce.
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {raw_id}",
            )
        if self.org.get(spec.name, record_id) is None:
            raise not_found()
        return record_id

    def get(self, req: Request, version: str, spec: ObjectSpec, raw_id: str) -> Response:
        record_id = self._existing(spec, raw_id)
        names = req.params().get("fields")
        record = self.org.get(spec.name, record_id) or {}
        return self.ok(
            200, self.record_json(version, spec, record, names.split(",") if names else None)
        )

    def update(self, req: Request, version: str, spec: ObjectSpec, raw_id: str) -> Response:
        record_id = self._existing(spec, raw_id)
        values = coerce_json(spec, self.body_object(req))
        values.pop("Id", None)
        try:
            self.org.update(spec, record_id, values)
        except DmlError as err:
            raise err.as_api() from None
        return Response(204)

    def delete(self, req: Request, version: str, spec: ObjectSpec, raw_id: str) -> Response:
        record_id = self._existing(spec, raw_id)
        self.org.delete(spec, record_id)
        return Response(204)

    def _external_field(self, spec: ObjectSpec, name: str) -> str:
        fspec = spec.field(name)
        if fspec is None or not fspec.external_id:
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {name}",
            )
        return fspec.name

    def _several(self, version: str, spec: ObjectSpec, ids: list[str]) -> Response:
        # 300 Multiple Choices: the body lists the matching records (reference §2.3, [?] shape).
        return self.ok(300, [self.record_url(version, spec, i) for i in ids])

    def get_by_external_id(
        self, req: Request, version: str, spec: ObjectSpec, name: str, value: str
    ) -> Response:
        ext_field = self._external_field(spec, name)
        ids = self.org.find(spec, ext_field, value)
        if not ids:
            raise not_found()
        if len(ids) > 1:
            return self._several(version, spec, ids)
        return self.ok(200, self.record_json(version, spec, self.org.get(spec.name, ids[0]) or {}))

    def upsert(
        self, req: Request, version: str, spec: ObjectSpec, name: str, value: str
    ) -> Response:
        ext_field = self._external_field(spec, name)
        values = coerce_json(spec, self.body_object(req))
        update_only = req.params().get("updateOnly", "").lower() == "true"
        try:
            record_id, created = self.org.upsert(
                spec, ext_field, value, values, update_only=update_only
            )
        except MultipleMatches as many:
            return self._several(version, spec, many.ids)
        except LookupError:
            raise not_found() from None
        except DmlError as err:
            raise err.as_api() from None
        result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
        modern = float(version) >= 46.0
        if modern:
            result["created"] = created
        if created:
            return self.ok(201, result)
        return self.ok(200, result) if modern else Response(204)

    # --- query ---------------------------------------------------------------------------

    def query(self, req: Request, version: str) -> Response:
        text = req.params().get("q")
        if not text:
            raise soql.malformed("A query string has to be specified")
        parsed = soql.parse(text)
        rows = parsed.run(list(self.org.iter_records(parsed.sobject)))
        if parsed.count_only:
            return self.ok(200, {"totalSize": len(rows), "done": True, "records": []})
        names = [f.name for f in parsed.fields]
        records = [self.record_json(version, parsed.sobject, r, names) for r in rows]
        return self._page(version, records, 0, None)

    def query_more(self, req: Request, version: str, locator: str) -> Response:
        cursor_id, _, offset = locator.rpartition("-")
        records = self._cursors.get(cursor_id)
        if records is None or not offset.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(version, records, int(offset), cursor_id)

    def _page(
        self, version: str, records: list[dict[str, Any]], offset: int, cursor_id: str | None
    ) -> Response:
        size = max(1, self.settings.query_page_size)
        end = offset + size
        body: dict[str, Any] = {"totalSize": len(records), "done": end >= len(records)}
        if end < len(records):
            cursor_id = cursor_id or self.org.ids.next(QUERY_LOCATOR_PREFIX)
            self._cursors[cursor_id] = records
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{cursor_id}-{end}"
        elif cursor_id:
            self._cursors.pop(cursor_id, None)
        body["records"] = records[offset:end]
        return self.ok(200, body)

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

    @staticmethod
    def _require_version(version: str, minimum: float) -> None:
        # sObject Collections exist from v42.0, their upsert from v46.0.
        if float(version) < minimum:
            raise not_found()

    def collection_create(self, req: Request, version: str) -> Response:
        self._require_version(version, 42.0)
        records, all_or_none = self._collection_body(req)
        items = []
        for record in records:
            try:
                spec = self._record_type(record)
            except DmlError as err:
                items.append(_Item(None, err))
                continue
            values = coerce_json(spec, record)
            items.append(_Item(partial(self._create_one, spec, values)))
        return self._run_collection(req, items, all_or_none, with_created=False)

    def collection_update(self, req: Request, version: str) -> Response:
        self._require_version(version, 42.0)
        records, all_or_none = self._collection_body(req)
        items = []
        for record in records:
            try:
                spec = self._record_type(record)
            except DmlError as err:
                items.append(_Item(None, err))
                continue
            values = coerce_json(spec, record)
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

    # --- Bulk API 2.0 ingest -------------------------------------------------------------

    def _job(self, job_id: str) -> BulkJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise not_found()
        return job

    @staticmethod
    def _invalid_job(message: str) -> ApiError:
        return ApiError(400, "INVALIDJOB", f"InvalidJob : {message}")

    @staticmethod
    def _invalid_state(job: BulkJob) -> ApiError:
        return ApiError(
            400, "INVALIDJOBSTATE", f"InvalidJobState : Job {job.id} is in state {job.state}"
        )

    def bulk_create(self, req: Request, version: str) -> Response:
        body = self.body_object(req)
        spec = lookup_object(str(body.get("object") or ""))
        if spec is None:
            raise self._invalid_job(f"Invalid object: {body.get('object')}")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise self._invalid_job(f"Invalid operation: {operation}")
        if body.get("contentType", "CSV") != "CSV":
            raise self._invalid_job("Only CSV content is supported")
        delimiter = body.get("columnDelimiter", "COMMA")
        line_ending = body.get("lineEnding", "LF")
        if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
            raise self._invalid_job("Invalid columnDelimiter or lineEnding")
        ext_name = body.get("externalIdFieldName")
        if operation == "upsert":
            if not ext_name:
                raise self._invalid_job(
                    f"External ID was blank for {spec.name}. "
                    "An External ID must be specified for upsert."
                )
            fspec = spec.field(ext_name)
            if fspec is None or not fspec.external_id:
                raise self._invalid_job(
                    f"Field name provided, {ext_name} is not an External ID or indexed field "
                    f"for {spec.name}"
                )
            ext_name = fspec.name
        job = BulkJob(
            id=self.org.ids.next(BULK_JOB_PREFIX),
            sobject=spec,
            operation=operation,
            external_id_field=ext_name,
            column_delimiter=delimiter,
            line_ending=line_ending,
            api_version=version,
            created_by=self.org.current_user_id,
            created_date=timestamp(self.org.clock()),
            polls_in_progress=self.settings.bulk_polls_in_progress,
        )
        self._jobs[job.id] = job
        return self.ok(200, job.info(full=False))

    def bulk_list(self, req: Request, version: str) -> Response:
        return self.ok(
            200,
            {
                "done": True,
                "records": [j.info(False) for j in self._jobs.values()],
                "nextRecordsUrl": None,
            },
        )

    def bulk_upload(self, req: Request, version: str, job_id: str) -> Response:
        job = self._job(job_id)
        if job.state != "Open":
            raise self._invalid_state(job)
        offset = len(job.rows)
        try:
            added = job.add_csv(req.text())
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, "INVALIDBATCH", f"InvalidBatch : {exc}") from None
        self._take_bulk_faults(req, job, offset, added)
        return Response(201)

    def _take_bulk_faults(self, req: Request, job: BulkJob, offset: int, count: int) -> None:
        kind = self.classify(req)
        fault = self.faults.take(
            req.method, req.target, kind, req.body, (RecordErrors, BulkJobFails)
        )
        if isinstance(fault, BulkJobFails):
            job.fail_message = fault.message
        elif isinstance(fault, RecordErrors):
            chosen = range(count) if fault.indexes is None else fault.indexes
            for index in chosen:
                if 0 <= index < count:
                    job.row_errors[offset + index] = DmlError(fault.status_code, fault.message, [])

    def bulk_set_state(self, req: Request, version: str, job_id: str) -> Response:
        job = self._job(job_id)
        state = self.body_object(req).get("state")
        if state == "UploadComplete":
            if job.state != "Open":
                raise self._invalid_state(job)
            self._take_bulk_faults(req, job, 0, 0)
            if self.bulk_batches_used + job.batches() > self.settings.bulk_batch_limit:
                job.fail_message = (
                    "ExceededQuota : Maximum number of batches per rolling 24 hour period exceeded"
                )
            else:
                self.bulk_batches_used += job.batches()
            job.state = "UploadComplete"
        elif state == "Aborted":
            if job.state in TERMINAL:
                raise self._invalid_state(job)
            job.state = "Aborted"
        else:
            raise self._invalid_job(f"Invalid state: {state}")
        job.finish(self.org)
        return self.ok(200, job.info(full=False))

    def bulk_get(self, req: Request, version: str, job_id: str) -> Response:
        job = self._job(job_id)
        if job.state in ("UploadComplete", "InProgress"):
            if job.polls_in_progress > 0:
                job.polls_in_progress -= 1
                job.state = "InProgress"
            else:
                job.process(self.org)
                job.finish(self.org)
        return self.ok(200, job.info(full=True))

    def bulk_delete(self, req: Request, version: str, job_id: str) -> Response:
        job = self._job(job_id)
        if job.state not in TERMINAL:
            raise self._invalid_state(job)
        del self._jobs[job_id]
        return Response(204)

    def bulk_results(self, req: Request, version: str, job_id: str, which: str) -> Response:
        job = self._job(job_id)
        text = {
            "successfulresults": job.successful_csv,
            "failedresults": job.failed_csv,
            "unprocessedrecords": job.unprocessed_csv,
        }[which]()
        return Response(200, text.encode("utf-8"), "text/csv")

    # --- state ---------------------------------------------------------------------------

    def reset_state(self) -> None:
        self.org.clear()
        self.settings = SalesforceSettings()
        self.api_used = 0
        self.bulk_batches_used = 0
        self._cursors.clear()
        self._jobs.clear()

    def jobs(self) -> list[BulkJob]:
        return list(self._jobs.values())
