"""The small Salesforce schema the emulator validates against.

Objects and fields follow the metadata in salesforce/force-app (Expansion_Signal__c,
Opportunity, Task) plus the standard objects they point at (Account, User).
Only what the sync touches is modelled; anything else is an unknown field, as
it would be in an org where the metadata was not deployed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STRING = "string"
TEXTAREA = "textarea"
EMAIL = "email"
PICKLIST = "picklist"
DATE = "date"
DATETIME = "datetime"
BOOLEAN = "boolean"
DOUBLE = "double"
CURRENCY = "currency"
REFERENCE = "reference"
ID = "id"

TEXT_TYPES = frozenset({STRING, TEXTAREA, EMAIL, PICKLIST})
NUMBER_TYPES = frozenset({DOUBLE, CURRENCY})


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    length: int | None = None  # text types only
    required: bool = False  # must be non-null on create and stay so on update
    default: object = None  # applied on create when the field is absent
    picklist: tuple[str, ...] = ()  # restricted: other values are rejected
    reference_to: tuple[str, ...] = ()  # lookup targets
    external_id: bool = False
    unique: bool = False  # unique external ids reject duplicates (case-insensitive)
    writable: bool = True  # system fields are read-only
    label: str = ""

    @property
    def display(self) -> str:
        return self.label or self.name.removesuffix("__c").replace("_", " ")


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    key_prefix: str
    fields: tuple[FieldSpec, ...]
    by_lower: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        all_fields = SYSTEM_FIELDS + self.fields
        object.__setattr__(self, "fields", all_fields)
        object.__setattr__(self, "by_lower", {f.name.lower(): f for f in all_fields})

    def field(self, name: str) -> FieldSpec | None:
        """Field names are case-insensitive in Salesforce APIs."""
        return self.by_lower.get(name.lower())

    @property
    def external_ids(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.external_id)


SYSTEM_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("Id", ID, writable=False),
    FieldSpec("CreatedDate", DATETIME, writable=False),
    FieldSpec("LastModifiedDate", DATETIME, writable=False),
    FieldSpec("SystemModstamp", DATETIME, writable=False),
    FieldSpec("CreatedById", REFERENCE, reference_to=("User",), writable=False),
    FieldSpec("LastModifiedById", REFERENCE, reference_to=("User",), writable=False),
    FieldSpec("IsDeleted", BOOLEAN, writable=False),
)

OPPORTUNITY_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
# The stages that close an Opportunity, and whether each is a win (in a real org, the
# IsClosed and IsWon of each OpportunityStage record; these are the standard ones).
CLOSED_STAGES = {"Closed Won": True, "Closed Lost": False}
OPPORTUNITY_TYPES = (
    "Existing Customer - Upgrade",
    "Existing Customer - Replacement",
    "Existing Customer - Downgrade",
    "New Customer",
)
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
TASK_PRIORITIES = ("High", "Normal", "Low")

# The "current user" of the integration session: the default owner of new records.
INTEGRATION_USER_EMAIL = "integration@emulator.example.com"

ACCOUNT = ObjectSpec(
    "Account",
    "001",
    (
        FieldSpec("Name", STRING, 255, required=True, label="Account Name"),
        FieldSpec("OwnerId", REFERENCE, reference_to=("User",), label="Owner ID"),
        FieldSpec("Type", STRING, 255),
        FieldSpec("Website", STRING, 255),
        FieldSpec("Industry", STRING, 255),
    ),
)

USER = ObjectSpec(
    "User",
    "005",
    (
        FieldSpec("Username", STRING, 80, required=True),
        FieldSpec("Email", EMAIL, 128, required=True),
        FieldSpec("FirstName", STRING, 40, label="First Name"),
        FieldSpec("LastName", STRING, 80, required=True, label="Last Name"),
        FieldSpec("Name", STRING, 121, writable=False, label="Full Name"),
        FieldSpec("Alias", STRING, 8),
        FieldSpec("IsActive", BOOLEAN, default=True, label="Active"),
    ),
)

# The external id the sync upserts Opportunities and Tasks on.
SIGNAL_ID_ON_ACTIVITY = FieldSpec(
    "Expansion_Signal_Id__c", STRING, 64, external_id=True, unique=True, label="Expansion Signal Id"
)

EXPANSION_SIGNAL = ObjectSpec(
    "Expansion_Signal__c",
    "a0B",
    (
        FieldSpec("Name", STRING, 80, label="Expansion Signal Name"),
        FieldSpec("OwnerId", REFERENCE, reference_to=("User",), label="Owner ID"),
        FieldSpec("Signal_Id__c", STRING, 64, external_id=True, unique=True, label="Signal Id"),
        FieldSpec("Account__c", REFERENCE, reference_to=("Account",), label="Account"),
        FieldSpec("Play__c", STRING, 80),
        FieldSpec(
            "Motion__c",
            PICKLIST,
            picklist=("seat", "consumption", "cross_sell", "tier", "bu_rollout"),
        ),
        FieldSpec("Product__c", STRING, 80),
        FieldSpec("Urgency__c", PICKLIST, picklist=("high", "medium", "low")),
        FieldSpec("Close_Path__c", PICKLIST, picklist=("mid_cycle", "renewal_bundle")),
        FieldSpec("Status__c", PICKLIST, picklist=("Open", "Resolved")),
        FieldSpec("Episode_Start__c", DATE),
        FieldSpec("SLA_Due__c", DATE, label="SLA Due"),
        FieldSpec("Last_Seen__c", DATE),
        FieldSpec("Signal_Count__c", DOUBLE),
        FieldSpec("Compound__c", BOOLEAN, default=False),
        FieldSpec("Owner_Email__c", EMAIL, 80),
        FieldSpec("Evidence__c", TEXTAREA, 32768),
        FieldSpec("Opportunity__c", REFERENCE, reference_to=("Opportunity",), label="Opportunity"),
        FieldSpec("Signal_Categories__c", DOUBLE),
        FieldSpec("Priority_Score__c", DOUBLE),
        FieldSpec("Priority_Rank__c", DOUBLE),
        FieldSpec("Responsible_Email__c", EMAIL, 80),
        FieldSpec("Backlog__c", BOOLEAN, default=False),
        FieldSpec("Held_Until__c", DATE),
    ),
)

OPPORTUNITY = ObjectSpec(
    "Opportunity",
    "006",
    (
        FieldSpec("Name", STRING, 120, required=True, label="Name"),
        FieldSpec("AccountId", REFERENCE, reference_to=("Account",), label="Account ID"),
        FieldSpec("Type", PICKLIST, picklist=OPPORTUNITY_TYPES, label="Opportunity Type"),
        FieldSpec("StageName", PICKLIST, required=True, picklist=OPPORTUNITY_STAGES, label="Stage"),
        FieldSpec("CloseDate", DATE, required=True, label="Close Date"),
        FieldSpec("OwnerId", REFERENCE, reference_to=("User",), label="Owner ID"),
        FieldSpec("Amount", CURRENCY),
        FieldSpec("Description", TEXTAREA, 32000),
        SIGNAL_ID_ON_ACTIVITY,
        # Derived from StageName by the org (sf_store.Org._derive), never written.
        FieldSpec("IsClosed", BOOLEAN, writable=False, label="Closed"),
        FieldSpec("IsWon", BOOLEAN, writable=False, label="Won"),
    ),
)

TASK = ObjectSpec(
    "Task",
    "00T",
    (
        FieldSpec("Subject", STRING, 255),
        FieldSpec(
            "WhatId",
            REFERENCE,
            reference_to=("Account", "Opportunity", "Expansion_Signal__c"),
            label="Related To ID",
        ),
        FieldSpec("OwnerId", REFERENCE, reference_to=("User",), label="Assigned To ID"),
        FieldSpec("ActivityDate", DATE, label="Due Date Only"),
        FieldSpec("Status", PICKLIST, required=True, default="Not Started", picklist=TASK_STATUSES),
        FieldSpec("Priority", PICKLIST, required=True, default="Normal", picklist=TASK_PRIORITIES),
        FieldSpec("Description", TEXTAREA, 32000),
        SIGNAL_ID_ON_ACTIVITY,
    ),
)

# The org itself: one read-only record whose Id is the Organization Id (00D...), what
# `SELECT Id FROM Organization` answers.
ORGANIZATION = ObjectSpec(
    "Organization",
    "00D",
    (
        FieldSpec("Name", STRING, 80, writable=False),
        FieldSpec("IsSandbox", BOOLEAN, writable=False),
        FieldSpec("InstanceName", STRING, 5, writable=False),
    ),
)

OBJECTS: dict[str, ObjectSpec] = {
    o.name.lower(): o
    for o in (ACCOUNT, USER, EXPANSION_SIGNAL, OPPORTUNITY, TASK, ORGANIZATION)
}
PREFIXES: dict[str, ObjectSpec] = {o.key_prefix: o for o in OBJECTS.values()}
BULK_JOB_PREFIX = "750"
BULK_BATCH_PREFIX = "751"
QUERY_LOCATOR_PREFIX = "01g"
ORG_ID_PREFIX = "00D"


def lookup_object(name: str) -> ObjectSpec | None:
    """sObject names are case-insensitive in URLs and SOQL."""
    return OBJECTS.get(name.lower())


def describe(spec: ObjectSpec) -> dict[str, object]:
    """A trimmed sObject Describe result: enough to check that fields exist."""
    return {
        "name": spec.name,
        "label": spec.name.removesuffix("__c").replace("_", " "),
        "keyPrefix": spec.key_prefix,
        "custom": spec.name.endswith("__c"),
        "createable": True,
        "updateable": True,
        "queryable": True,
        "fields": [
            {
                "name": f.name,
                "label": f.display,
                "type": f.type,
                "length": f.length or 0,
                "nillable": not f.required and f.type != BOOLEAN,
                "createable": f.writable,
                "updateable": f.writable,
                "externalId": f.external_id,
                "unique": f.unique,
                "idLookup": f.external_id or f.name == "Id",
                "referenceTo": list(f.reference_to),
                "picklistValues": [
                    {"active": True, "defaultValue": v == f.default, "label": v, "value": v}
                    for v in f.picklist
                ],
                "restrictedPicklist": bool(f.picklist),
                "custom": f.name.endswith("__c"),
            }
            for f in spec.fields
        ],
    }
