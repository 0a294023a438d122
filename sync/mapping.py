"""The mapping file: Salesforce object and field names, and the Slack metadata tag.

The sync speaks in its own names (`signal.urgency`, `task.due`); the mapping
file (sync/mapping.yml, or the file EXPANSION_SYNC_MAPPING points at) says
what those are called in the user's org, so renaming needs no code change.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_MAPPING_PATH = Path(__file__).with_name("mapping.yml")

# The names the sync uses; a mapping file must say what each is called.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "signal": (
        "account", "play", "motion", "product", "urgency", "close_path", "status",
        "episode_start", "sla_due", "last_seen", "signal_count", "compound", "owner_email",
        "evidence", "opportunity",
    ),
    "opportunity": ("name", "account", "type", "stage", "close_date", "owner", "description"),
    "task": ("subject", "what", "owner", "due", "priority", "status", "description"),
}


class MappingError(ValueError):
    """The mapping file is missing or incomplete."""


@dataclass(frozen=True)
class ObjectMapping:
    """One sObject: its API name, its external-id field and the sync's field names."""

    object: str
    external_id: str
    fields: dict[str, str]
    defaults: dict[str, Any] = field(default_factory=dict)

    def to_salesforce(self, key: str, values: MappingABC[str, Any]) -> dict[str, Any]:
        """A record in the org's names: the external id first, then the mapped fields."""
        record: dict[str, Any] = {self.external_id: key}
        for name, value in values.items():
            record[self.fields[name]] = value
        return record


@dataclass(frozen=True)
class Mapping:
    signal: ObjectMapping
    opportunity: ObjectMapping
    task: ObjectMapping
    user_object: str
    user_email: str
    user_active: str
    slack_event_type: str

    def object(self, kind: str) -> ObjectMapping:
        return {"signal": self.signal, "opportunity": self.opportunity, "task": self.task}[kind]


def _object(data: dict[str, Any], kind: str, source: Path) -> ObjectMapping:
    section = data.get(kind)
    if not isinstance(section, dict):
        raise MappingError(f"{source}: salesforce.{kind} is missing")
    fields = section.get("fields") or {}
    missing = [name for name in REQUIRED_FIELDS[kind] if not fields.get(name)]
    if missing or not section.get("object") or not section.get("external_id"):
        what = ", ".join(missing) or "object / external_id"
        raise MappingError(f"{source}: salesforce.{kind} does not name: {what}")
    return ObjectMapping(
        object=str(section["object"]),
        external_id=str(section["external_id"]),
        fields={k: str(v) for k, v in fields.items()},
        defaults=dict(section.get("defaults") or {}),
    )


def load_mapping(path: Path | None = None) -> Mapping:
    source = path or DEFAULT_MAPPING_PATH
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise MappingError(f"mapping file not found: {source}") from None
    except yaml.YAMLError as error:
        raise MappingError(f"{source}: not valid YAML: {error}") from None
    salesforce = data.get("salesforce") or {}
    user = salesforce.get("user") or {}
    slack = data.get("slack") or {}
    return Mapping(
        signal=_object(salesforce, "signal", source),
        opportunity=_object(salesforce, "opportunity", source),
        task=_object(salesforce, "task", source),
        user_object=str(user.get("object", "User")),
        user_email=str(user.get("email", "Email")),
        user_active=str(user.get("active", "IsActive")),
        slack_event_type=str(slack.get("metadata_event_type", "expansion_signal_notice")),
    )
