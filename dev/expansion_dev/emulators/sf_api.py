"""The Salesforce REST and Bulk 2.0 endpoints, over the emulated org.

Routing, auth, the daily API counter and the `Sforce-Limit-Info` header live
here; data rules live in sf_store, SOQL in soql, Bulk jobs in sf_bulk. Status
codes and bodies follow Salesforce's REST API documentation.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from expansion_dev.emulators import sf_ids, soql
from expansion_dev.emulators.faults import Effect
from expansion_dev.emulators.httpbase import Request, Response
from expansion_dev.emulators.schema import (
    OBJECTS,
    QUERY_LOCATOR_PREFIX,
    ObjectSpec,
    describe,
    lookup_object,
)
from expansion_dev.emulators.sf_base import SalesforceSettings
from expansion_dev.emulators.sf_bulk_api import BulkEndpoints
from expansion_dev.emulators.sf_collections import MAX_COLLECTION, CollectionEndpoints
from expansion_dev.emulators.sf_errors import ApiError, DmlError, not_found
from expansion_dev.emulators.sf_store import MultipleMatches, coerce_json

VERSION_PATH = re.compile(r"^/services/data/v(\d+\.\d+)(/.*)?$")
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


class SalesforceApp(CollectionEndpoints, BulkEndpoints):
    """Routing, auth and metering, sObject rows and SOQL; the other groups come from the bases."""

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
        if version not in SUPPORTED_VERSIONS:
            # A version the org does not offer: everything under its base is 404 NOT_FOUND.
            return Route("version.unknown", self.not_found, (), version)
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
        """OAuth 2.0 client-credentials flow on the instance (My Domain) URL: a fresh token."""
        form = {k: v[0] for k, v in parse_qs(req.text()).items()}
        valid = (
            form.get("grant_type") == "client_credentials"
            and form.get("client_id") == self.settings.client_id
            and form.get("client_secret") == self.settings.client_secret
        )
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

    def _several(self, version: str, spec: ObjectSpec, ids: list[str]) -> Response:
        # 300 Multiple Choices: the body lists the matching records.
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

    # --- state ---------------------------------------------------------------------------

    def reset_state(self) -> None:
        self.org.clear()
        self.settings = SalesforceSettings()
        self.api_used = 0
        self.bulk_batches_used = 0
        self._cursors.clear()
        self._jobs.clear()
