"""The two Salesforce error shapes.

A top-level failure is an HTTP error whose body is a JSON array of
`{"message", "errorCode", "fields"?}`. A per-record failure inside a 200
collection result (or a Bulk result row) uses `statusCode` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DmlError(Exception):
    """One record could not be saved."""

    status_code: str
    message: str
    fields: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"statusCode": self.status_code, "message": self.message, "fields": self.fields}

    def as_bulk(self) -> str:
        """Bulk 2.0 failedResults `sf__Error`: CODE:message:fields, `--` closes the fields."""
        fields = ",".join(self.fields)
        return f"{self.status_code}:{self.message}:{fields + ' ' if fields else ''}--"

    def as_api(self, status: int = 400) -> ApiError:
        return ApiError(status, self.status_code, self.message, self.fields)


@dataclass
class ApiError(Exception):
    """The whole request failed: HTTP status plus the errorCode array body."""

    status: int
    error_code: str
    message: str
    fields: list[str] | None = None

    def body(self) -> list[dict[str, Any]]:
        error: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            error["fields"] = self.fields
        return [error]


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


ROLLED_BACK = DmlError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
)
