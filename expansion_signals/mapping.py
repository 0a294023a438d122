"""The mapping file: Salesforce object and field names, and the Slack metadata tag.

The sync speaks in its own names (`signal.urgency`, `task.due`); the mapping
file (expansion_signals/mapping.yml, or the file EXPANSION_SYNC_MAPPING points at) says
what those are called in the user's org, so renaming needs no code change.

The whole file is checked when it is loaded: every section and key the sync
needs, each of the right type, and no key it does not know (a misspelt
`close_after_day` would otherwise be ignored without a word). A problem is
one line naming the file and the key, before any connection is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from expansion_signals.project import CHECKOUT

DEFAULT_MAPPING_PATH = Path(__file__).with_name("mapping.yml")

# The names the sync uses; a mapping file must say what each is called.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "signal": (
        "account", "play", "motion", "product", "urgency", "close_path", "status",
        "episode_start", "sla_due", "last_seen", "signal_count", "compound", "owner_email",
        "evidence", "opportunity", "signal_categories", "priority_score", "priority_rank",
        "responsible_email", "backlog", "held_until",
    ),
    "opportunity": ("name", "account", "type", "stage", "close_date", "owner", "description"),
    "task": ("subject", "what", "owner", "due", "priority", "status", "description"),
}
# The `defaults:` keys of each object (signal has none).
DEFAULT_KEYS: dict[str, tuple[str, ...]] = {
    "signal": (),
    "opportunity": ("type", "stage", "close_after_days"),
    "task": ("status",),
}
USER_KEYS = ("object", "email", "active")
SLACK_KEYS = ("metadata_event_type",)


class MappingError(ValueError):
    """The mapping file is missing, incomplete or holds a value of the wrong type."""


@dataclass(frozen=True)
class ObjectMapping:
    """One sObject: its API name, its external-id field and the sync's field names."""

    object: str
    external_id: str
    fields: dict[str, str]

    def to_salesforce(self, key: str, values: MappingABC[str, Any]) -> dict[str, Any]:
        """A record in the org's names: the external id first, then the mapped fields."""
        record: dict[str, Any] = {self.external_id: key}
        for name, value in values.items():
            record[self.fields[name]] = value
        return record


@dataclass(frozen=True)
class OpportunityDefaults:
    type: str
    stage: str
    close_after_days: int  # CloseDate = episode_start + this many days


@dataclass(frozen=True)
class TaskDefaults:
    status: str


@dataclass(frozen=True)
class Mapping:
    signal: ObjectMapping
    opportunity: ObjectMapping
    task: ObjectMapping
    opportunity_defaults: OpportunityDefaults
    task_defaults: TaskDefaults
    user_object: str
    user_email: str
    user_active: str
    slack_event_type: str
    # the file it came from, as people see it in messages
    source: str = "expansion_signals/mapping.yml"

    def object(self, kind: str) -> ObjectMapping:
        return {"signal": self.signal, "opportunity": self.opportunity, "task": self.task}[kind]


def _shown(value: Any) -> str:
    """A value as a message shows it: short, and a type word for what has no one-line form."""
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class _Reader:
    """Reads one mapping file; every problem is a MappingError naming the file and the key."""

    source: str

    def fail(self, key: str, problem: str) -> NoReturn:
        raise MappingError(f"{self.source}: {key} {problem}")

    def section(
        self, parent: dict[str, Any], name: str, path: str, allowed: Iterable[str]
    ) -> dict[str, Any]:
        """A required sub-mapping holding only the allowed keys."""
        key = f"{path}.{name}" if path else name
        if name not in parent:
            self.fail(key, "is missing")
        return self.keys(parent[name], key, allowed)

    def keys(self, value: Any, key: str, allowed: Iterable[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping of names to values, got {_shown(value)}")
        known = tuple(allowed)
        for name in value:
            if name not in known:
                where = f"{key}.{name}" if key else str(name)
                self.fail(where, f"is not a key the sync knows (expected {', '.join(known)})")
        return value

    def text(self, parent: dict[str, Any], name: str, path: str) -> str:
        key = f"{path}.{name}"
        if name not in parent:
            self.fail(key, "is missing")
        value = parent[name]
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, got {_shown(value)}")
        return value.strip()

    def days(self, parent: dict[str, Any], name: str, path: str) -> int:
        key = f"{path}.{name}"
        if name not in parent:
            self.fail(key, "is missing")
        value = parent[name]
        # bool is an int to Python, and `true` days is surely a slip.
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(key, f"must be a whole number of days, got {_shown(value)}")
        return value

    def object(self, salesforce: dict[str, Any], kind: str) -> tuple[ObjectMapping, dict[str, Any]]:
        path, default_keys = f"salesforce.{kind}", DEFAULT_KEYS[kind]
        allowed = ("object", "external_id", "fields") + (("defaults",) if default_keys else ())
        section = self.section(salesforce, kind, "salesforce", allowed)
        sobject = self.text(section, "object", path)
        external_id = self.text(section, "external_id", path)
        fields = self.section(section, "fields", path, REQUIRED_FIELDS[kind])
        mapped = {name: self.text(fields, name, f"{path}.fields") for name in REQUIRED_FIELDS[kind]}
        defaults = self.section(section, "defaults", path, default_keys) if default_keys else {}
        return ObjectMapping(sobject, external_id, mapped), defaults


def shown_path(path: Path) -> str:
    """The file as people know it: relative to the checkout when it is inside it."""
    try:
        return str(path.resolve().relative_to(CHECKOUT))
    except ValueError:
        return str(path)


def load_mapping(path: Path | None = None) -> Mapping:
    source = path or DEFAULT_MAPPING_PATH
    name = shown_path(source)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping file not found: {name}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"{name}: cannot be read: {type(error).__name__}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "cannot be parsed"
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise MappingError(f"{name}: not valid YAML: {problem}{line}") from None
    read = _Reader(name)
    if not isinstance(data, dict):
        read.fail("the file", f"must be a mapping with sections salesforce and slack, "
                              f"got {_shown(data)}")
    read.keys(data, "", ("salesforce", "slack"))
    salesforce = read.section(data, "salesforce", "", ("signal", "opportunity", "task", "user"))
    signal, _ = read.object(salesforce, "signal")
    opportunity, opportunity_defaults = read.object(salesforce, "opportunity")
    task, task_defaults = read.object(salesforce, "task")
    user = read.section(salesforce, "user", "salesforce", USER_KEYS)
    slack = read.section(data, "slack", "", SLACK_KEYS)
    return Mapping(
        signal=signal,
        opportunity=opportunity,
        task=task,
        opportunity_defaults=OpportunityDefaults(
            type=read.text(opportunity_defaults, "type", "salesforce.opportunity.defaults"),
            stage=read.text(opportunity_defaults, "stage", "salesforce.opportunity.defaults"),
            close_after_days=read.days(
                opportunity_defaults, "close_after_days", "salesforce.opportunity.defaults"
            ),
        ),
        task_defaults=TaskDefaults(
            status=read.text(task_defaults, "status", "salesforce.task.defaults"),
        ),
        user_object=read.text(user, "object", "salesforce.user"),
        user_email=read.text(user, "email", "salesforce.user"),
        user_active=read.text(user, "active", "salesforce.user"),
        slack_event_type=read.text(slack, "metadata_event_type", "slack"),
        source=name,
    )
