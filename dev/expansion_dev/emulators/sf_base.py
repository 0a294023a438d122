"""State and response helpers shared by the Salesforce endpoint groups.

SalesforceApp (sf_api) combines the groups: sObject rows and queries there,
collections in sf_collections, Bulk 2.0 in sf_bulk_api.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from expansion_dev.emulators import sf_ids
from expansion_dev.emulators.faults import SF_JSON
from expansion_dev.emulators.httpbase import EmulatorApp, Request, Response, json_response
from expansion_dev.emulators.schema import (
    ORG_ID_PREFIX,
    ObjectSpec,
)
from expansion_dev.emulators.sf_bulk import BulkJob
from expansion_dev.emulators.sf_errors import ApiError
from expansion_dev.emulators.sf_store import Org


@dataclass
class SalesforceSettings:
    api_limit: int = 100_000  # daily allocation (Enterprise base); a Developer Edition has 15,000
    bulk_batch_limit: int = 15_000  # rolling 24 h, shared by Bulk 1.0 and 2.0
    query_page_size: int = 2000
    bulk_polls_in_progress: int = 0  # polls answered InProgress before a job completes
    client_id: str = "emulator-client-id"
    client_secret: str = "emulator-client-secret"


class SalesforceBase(EmulatorApp):
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

    def _external_field(self, spec: ObjectSpec, name: str) -> str:
        fspec = spec.field(name)
        if fspec is None or not fspec.external_id:
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {name}",
            )
        return fspec.name
