"""Checking the mapping against the org once, before a live run writes anything.

A mapped field the org does not have fails every record on every run
(INVALID_FIELD), an unknown object or an API version the org does not offer
fails every call (NOT_FOUND). One describe per mapped object at the start
turns either into one line naming the key, the object, the field or the
version, and the command exits as for any other configuration problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from simple_salesforce.exceptions import SalesforceResourceNotFound

from expansion_signals.config import ConfigError
from expansion_signals.connections import SalesforceConnection
from expansion_signals.errors import RetryPolicy, SyncAborted, describe
from expansion_signals.mapping import Mapping, MappingError


@dataclass(frozen=True)
class MappedField:
    key: str  # where the mapping names it: salesforce.signal.fields.urgency
    name: str
    external_id: bool = False


@dataclass
class MappedObject:
    key: str  # salesforce.signal.object
    name: str
    fields: list[MappedField] = field(default_factory=list)


def mapped_objects(mapping: Mapping) -> list[MappedObject]:
    """Each sObject the mapping names, once, with every field mapped on it."""
    found: dict[str, MappedObject] = {}

    def add(key: str, name: str, fields: Iterable[MappedField]) -> None:
        target = found.setdefault(name.lower(), MappedObject(f"{key}.object", name))
        target.fields.extend(fields)

    for kind in ("signal", "opportunity", "task"):
        target, key = mapping.object(kind), f"salesforce.{kind}"
        add(key, target.object, [
            MappedField(f"{key}.external_id", target.external_id, external_id=True),
            *(MappedField(f"{key}.fields.{k}", v) for k, v in target.fields.items()),
        ])
    add("salesforce.user", mapping.user_object, [
        MappedField("salesforce.user.email", mapping.user_email),
        MappedField("salesforce.user.active", mapping.user_active),
    ])
    return list(found.values())


def _problems(target: MappedObject, described: dict[str, Any]) -> list[str]:
    fields = {str(f.get("name", "")).lower(): f for f in described.get("fields") or []}
    problems = []
    for mapped in target.fields:
        found = fields.get(mapped.name.lower())
        if found is None:
            problems.append(f"{mapped.key}: {target.name} has no field {mapped.name}")
        elif mapped.external_id and not found.get("externalId"):
            problems.append(
                f"{mapped.key}: {target.name}.{mapped.name} is not an External ID field"
            )
    return problems


def check_mapping_against_org(
    connection: SalesforceConnection, mapping: Mapping, policy: RetryPolicy
) -> None:
    """Describe each mapped object once; MappingError or ConfigError names what the org lacks.

    A 404 on a describe is either an object the org does not have or, when the
    versioned base itself is 404 too, an API version it does not offer. Any other
    failure (unreachable, auth, limits) is a SyncAborted, as it would be mid-run.
    """

    def call(path: str) -> Any:
        try:
            return connection.call(lambda sf: sf.restful(path), policy)
        except (SalesforceResourceNotFound, SyncAborted):
            raise
        except Exception as error:
            code, message = describe(error)
            raise SyncAborted(
                f"Salesforce: checking the mapping failed: {code}: {message}"
            ) from error

    problems: list[str] = []
    version_checked = False
    for target in mapped_objects(mapping):
        try:
            described = call(f"sobjects/{quote(target.name, safe='')}/describe")
        except SalesforceResourceNotFound:
            if not version_checked:
                _check_version(call, connection)
                version_checked = True
            problems.append(f"{target.key}: the org has no object {target.name}")
            continue
        problems += _problems(target, described or {})
    if problems:
        raise MappingError(
            f"{mapping.source}: does not match the Salesforce org: " + "; ".join(problems)
        )


def _check_version(call: Callable[[str], Any], connection: SalesforceConnection) -> None:
    """The versioned base (`/services/data/vNN.N/`) answers for every version the org offers."""
    try:
        call("")
    except SalesforceResourceNotFound:
        version = connection.client.sf_version
        raise ConfigError(
            f"SALESFORCE_API_VERSION {version} is not offered by the org at "
            f"{connection.instance_url}"
        ) from None
