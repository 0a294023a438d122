"""Demo data: every raw table of the source contract, generated in DuckDB SQL.

Accounts follow archetypes that drive everything downstream: *growers* fill
their seats and buy more at each renewal, *steady* accounts plateau,
*decliners* lose users and contract, *churners* cancel. Independently, some
accounts consume over their data commitment, reach for gated features, buy an
add-on later, or belong to a family of business units with whitespace. The
expansion opportunities in CRM follow those moments with realistic lags, so
measuring which signals convert finds real lift.

Randomness is a hash of (keys, seed, tag): the same seed gives the same rows,
whatever the thread count, and nothing is generated row by row in Python.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from expansion_dev.contract import RAW_TABLES, create_table_sql

# The roles the generator gives to the products of the default catalog.
SEAT_PRODUCT = "analytics"
USAGE_PRODUCT = "data_platform"
ADDON_PRODUCT = "ai_assistant"

DEPARTMENTS = [
    "sales", "marketing", "data", "finance", "operations", "support", "product", "engineering",
]
NAME_LEFT = [
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent",
    "Hooli", "Vandelay", "Wonka", "Aperture", "Massive", "Pied Piper", "Nakatomi", "Gringotts",
    "Oceanic", "Monarch", "Dunder", "Blue Sun", "Virtucon", "Zorg", "Prestige", "Sirius",
]
NAME_RIGHT = [
    "Corp", "Industries", "Labs", "Systems", "Holdings", "Group", "GmbH", "Ltd", "Analytics",
    "Logistics", "Health", "Retail", "Bank", "Media", "Energy", "Foods", "Robotics", "Networks",
]
# A few names carry what customers really type: markup, mentions, quotes.
ODD_NAMES = [
    "O'Brien & Sons <Holdings>", "*Bold* _Italic_ ~Strike~ Ltd", "<!channel> Alerts Inc",
    "Müller Straße GmbH", "Smith | Jones @here Partners", "Café \"Quote\" Co",
]


@dataclass(frozen=True)
class GeneratorOptions:
    accounts: int = 500
    days: int = 400
    as_of: date = field(default_factory=lambda: datetime.now(UTC).date())
    seed: int = 42
    events: int | None = None  # target usage events; default 10 per account-day

    @property
    def target_events(self) -> int:
        return self.events if self.events is not None else 10 * self.accounts * self.days


@dataclass
class GeneratedData:
    path: Path
    row_counts: dict[str, int]
    seconds: float


def _read_tier_features(seeds_dir: Path) -> dict[tuple[str, str], list[str]]:
    features: dict[tuple[str, str], list[str]] = {}
    with open(seeds_dir / "tier_features.csv", newline="") as f:
        for row in csv.DictReader(f):
            features.setdefault((row["product"], row["plan_tier"]), []).append(row["feature"])
    return features


def _read_catalog(seeds_dir: Path) -> dict[str, list[dict[str, str]]]:
    catalog: dict[str, list[dict[str, str]]] = {}
    with open(seeds_dir / "plan_catalog.csv", newline="") as f:
        for row in csv.DictReader(f):
            catalog.setdefault(row["product"], []).append(row)
    for rows in catalog.values():
        rows.sort(key=lambda r: int(r["tier_rank"]))
    return catalog


def _salesforce_id18(id15_sql: str) -> str:
    """SQL for the 18-character form of a 15-character Salesforce id: each
    5-character chunk adds one suffix character whose bits mark its upper-case
    letters, so a case-insensitive system can tell ids apart."""
    chunks = []
    for chunk in range(3):
        bits = " + ".join(
            f"(case when substr(({id15_sql}), {chunk * 5 + j + 1}, 1) between 'A' and 'Z' "
            f"then {1 << j} else 0 end)"
            for j in range(5)
        )
        chunks.append(f"substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 1 + {bits}, 1)")
    return f"(({id15_sql}) || " + " || ".join(chunks) + ")"


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


class _Sql:
    """Small helpers that render deterministic-random SQL expressions."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def u(self, tag: str, *keys: str) -> str:
        """A uniform number in [0, 1) from the keys, the seed and a tag."""
        return f"((hash({', '.join(keys)}, {self.seed}, '{tag}') % 1000003) / 1000003.0)"

    def n(self, tag: str, modulo: int | str, *keys: str) -> str:
        """An integer in [0, modulo) from the keys, the seed and a tag."""
        return f"cast(hash({', '.join(keys)}, {self.seed}, '{tag}') % ({modulo}) as integer)"

    @staticmethod
    def pick(values: list[str], index_sql: str) -> str:
        return f"{_sql_list(values)}[1 + ({index_sql})]"


def generate(db_path: Path, options: GeneratorOptions, seeds_dir: Path) -> GeneratedData:
    """Write every raw table of the contract into schema `raw` of the DuckDB file."""
    if options.accounts < 1 or options.days < 30:
        raise ValueError("need at least 1 account and 30 days")
    started = time.perf_counter()
    catalog = _read_catalog(seeds_dir)
    tier_features = _read_tier_features(seeds_dir)
    for product in (SEAT_PRODUCT, USAGE_PRODUCT, ADDON_PRODUCT):
        if product not in catalog:
            raise ValueError(f"seeds/plan_catalog.csv has no product {product!r}")

    con = duckdb.connect(str(db_path))
    try:
        con.execute("set preserve_insertion_order = false")
        con.execute("create schema if not exists raw")
        for table in RAW_TABLES:
            con.execute(f"drop table if exists raw.{table}")
            con.execute(create_table_sql(table, "raw"))
        _Builder(con, options, catalog, tier_features).run()
        counts = {
            t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in RAW_TABLES
        }
        con.execute("checkpoint")
    finally:
        con.close()
    return GeneratedData(db_path, counts, time.perf_counter() - started)


class _Builder:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        options: GeneratorOptions,
        catalog: dict[str, list[dict[str, str]]],
        tier_features: dict[tuple[str, str], list[str]],
    ) -> None:
        self.con = con
        self.o = options
        self.s = _Sql(options.seed)
        self.catalog = catalog
        self.features = tier_features
        self.as_of = f"date '{options.as_of.isoformat()}'"
        # t = 0 is the first day of the window, t = days - 1 is as_of.
        self.t0 = f"({self.as_of} - {options.days - 1})"

    def sql(self, statement: str) -> None:
        self.con.execute(statement)

    def run(self) -> None:
        self.accounts()
        self.lines()
        self.users()
        self.account_days()
        self.usage_events()
        self.marketing_and_crm()
        self.opportunities()

    # -- accounts -----------------------------------------------------------------
    def accounts(self) -> None:
        s, o = self.s, self.o
        seat_tiers = [r["plan_tier"] for r in self.catalog[SEAT_PRODUCT]]
        usage_tiers = [r["plan_tier"] for r in self.catalog[USAGE_PRODUCT]]
        seat_limits = [r["seat_limit"] or "100000" for r in self.catalog[SEAT_PRODUCT]]
        seat_prices = [r["list_price"] for r in self.catalog[SEAT_PRODUCT]]
        unit_prices = [r["list_price"] for r in self.catalog[USAGE_PRODUCT]]
        unit_limits = [r["monthly_unit_limit"] or "1e12" for r in self.catalog[USAGE_PRODUCT]]
        top_rank = len(seat_tiers)
        self.sql(f"""
        create or replace temp table g_accounts as
        with base as (
            select
                i,
                i // 5 as block,
                i % 5 as pos,
                {s.u('family', 'i // 5')} < 0.3 and i // 5 * 5 + 4 < {o.accounts} as in_family,
                1 + {s.n('family_size', 3, 'i // 5')} as family_size,
                {s.u('segment', 'i')} as u_segment,
                {s.u('archetype', 'i')} as u_archetype,
                {s.u('tenure', 'i')} as u_tenure,
                {s.u('tenure2', 'i')} as u_tenure2
            from range({o.accounts}) t(i)
        ),
        shaped as (
            select
                *,
                in_family and pos between 1 and family_size as is_business_unit,
                case
                    when in_family and pos <= family_size then 'enterprise'
                    when u_segment < 0.15 then 'enterprise'
                    when u_segment < 0.50 then 'mid_market'
                    else 'smb'
                end as segment,
                case
                    when u_archetype < 0.25 then 'grower'
                    when u_archetype < 0.70 then 'steady'
                    when u_archetype < 0.90 then 'decliner'
                    else 'churner'
                end as archetype,
                case
                    when u_tenure < 0.2 then 1 + cast(floor(u_tenure2 * ({o.days} - 45)) as integer)
                    else {o.days} + cast(floor(u_tenure2 * 730) as integer)
                end as tenure_days
            from base
        )
        select
            i,
            'A' || lpad(cast(i as varchar), 6, '0') as account_id,
            case when is_business_unit then 'A' || lpad(cast(block * 5 as varchar), 6, '0') end
                as parent_account_id,
            is_business_unit,
            -- a business unit without a contract is whitespace for bu_rollout
            is_business_unit and {s.u('whitespace', 'i')} < 0.45 as is_whitespace,
            segment,
            archetype,
            {self.as_of} - tenure_days as customer_since,
            {s.u('seats', 'i')} as u_seats,
            case segment
                when 'enterprise' then 80 + {s.n('seats_n', 320, 'i')}
                when 'mid_market' then 20 + {s.n('seats_n', 100, 'i')}
                else 5 + {s.n('seats_n', 20, 'i')}
            end as seats0,
            case
                when segment = 'smb' then case when {s.u('tier', 'i')} < 0.8 then 1 else 2 end
                when segment = 'mid_market' then
                    case when {s.u('tier', 'i')} < 0.2 then 1
                         when {s.u('tier', 'i')} < 0.9 then 2 else 3 end
                else case when {s.u('tier', 'i')} < 0.4 then 2 else 3 end
            end as seat_rank0,
            {s.u('gated', 'i')} < 0.25 as reaches_for_gated,
            {s.u('usage_product', 'i')} < case when segment = 'enterprise' then 0.7 else 0.4 end
                as has_usage_product,
            -- days from the first purchase to the usage product's: an enterprise
            -- that did not start with it buys it in its first year (a cross-sell)
            case when {s.u('usage_product', 'i')} < case when segment = 'enterprise' then 0.7
                                                    else 0.4 end then 90
                 when segment = 'enterprise' then 190 + {s.n('usage_day', 120, 'i')}
            end as usage_offset,
            {s.u('overconsumer', 'i')} < 0.5 as consumes_over_commit,
            {s.u('addon', 'i')} as u_addon,
            -- days from the first purchase to the add-on's (null: never bought); most
            -- enterprise accounts buy it in their first months
            case when {s.u('addon', 'i')} < 0.15 then 0
                 when {s.u('addon', 'i')} < 0.30 then 240
                 when segment = 'enterprise' then 100 + {s.n('addon_day', 120, 'i')}
            end as addon_offset,
            {s.u('breadth', 'i')} as u_breadth,
            240 + {s.n('dept_interval', 400, 'i')} as department_interval_days,
            {s.n('survey_offset', 90, 'i')} as survey_offset,
            {s.pick(NAME_LEFT, s.n('name_l', len(NAME_LEFT), 'i'))}
                || ' ' || {s.pick(NAME_RIGHT, s.n('name_r', len(NAME_RIGHT), 'i'))} as base_name,
            'c' || cast(i as varchar) || '.example.com' as domain
        from shaped
        """)
        # The seat product's tier per term: gated accounts upgrade one tier at
        # their second or a later renewal, about half of them.
        self.sql(f"""
        create or replace temp table g_accounts2 as
        select
            a.*,
            case
                when reaches_for_gated and seat_rank0 < {top_rank} and {s.u('upgrade', 'i')} < 0.5
                then 1 + {s.n('upgrade_k', 2, 'i')}
            end as upgrade_term,
            case
                when archetype = 'churner'
                then {o.days} - 15 - cast(floor({s.u('churn', 'i')} * ({o.days} - 60)) as integer)
            end as churn_t,
            {_sql_list(seat_tiers)} as seat_tiers,
            [{', '.join(seat_limits)}] as seat_limits,
            [{', '.join(seat_prices)}] as seat_prices,
            {_sql_list(usage_tiers)} as usage_tiers,
            [{', '.join(unit_prices)}] as unit_prices,
            [{', '.join(unit_limits)}] as unit_limits
        from g_accounts a
        """)
        self.sql("drop table g_accounts")
        self.sql("alter table g_accounts2 rename to g_accounts")
        self.sql(f"""
        insert into raw.accounts
        select
            account_id,
            case when {s.u('odd_name', 'i')} < 0.02
                 then {s.pick(ODD_NAMES, s.n('odd_pick', len(ODD_NAMES), 'i'))}
                 else base_name || ' ' || cast(i as varchar) end as account_name,
            parent_account_id,
            case when {s.u('crm', 'i')} < 0.95
                 then {_salesforce_id18("'001' || upper(substr(md5(account_id || '" + str(o.seed) + "'), 1, 12))")}
            end,
            segment,
            {s.pick(['NA', 'EMEA', 'APAC', 'LATAM'], s.n('region', 4, 'i'))},
            case when segment = 'smb' and {s.u('csm', 'i')} < 0.7 then null
                 else 'csm' || cast({s.n('csm_n', 12, 'i')} as varchar) || '@vendor.example' end,
            case when segment = 'smb' and {s.u('am', 'i')} < 0.5 then null
                 when {s.u('no_owner', 'i')} < 0.03 then null
                 else 'am' || cast({s.n('am_n', 12, 'i')} as varchar) || '@vendor.example' end,
            case when {s.u('no_owner', 'i')} < 0.03 then null
                 else 'ae' || cast({s.n('ae_n', 12, 'i')} as varchar) || '@vendor.example' end,
            case when {s.u('fy', 'i')} < 0.8 then 1 + {s.n('fy_m', 12, 'i')} end,
            cast(customer_since - 20 - {s.n('created', 60, 'i')} as timestamp)
                + to_seconds({s.n('created_s', 86400, 'i')})
        from g_accounts
        """)

    # -- subscriptions ------------------------------------------------------------
    def lines(self) -> None:
        """Contract lines: yearly terms from the customer's start; renewals are new rows."""
        self.sql(f"""
        create or replace temp table g_lines as
        with terms as (
            select a.*, cast(unnest(range(0, 8)) as integer) as k
            from g_accounts a
            where not is_whitespace
        ),
        sized_terms as (
            select
                *,
                customer_since + 365 * k as start_date,
                round(seats0 * case archetype
                    when 'grower' then pow(1.35, k)
                    when 'decliner' then pow(0.85, k)
                    else 1.0 end) as seats_k
            from terms
        ),
        seat_terms as (
            -- a contract buys the tier its seats fit in with room to grow
            -- (seat limit >= seats / 0.65): nobody sits at a plan's limit
            select
                *,
                least(len(seat_tiers), greatest(
                    seat_rank0 + case when k >= upgrade_term then 1 else 0 end,
                    1 + len(list_filter(seat_limits, lambda x: x < seats_k / 0.65)))) as seat_rank
            from sized_terms
        ),
        seat_lines as (
            select
                i, account_id, k, '{SEAT_PRODUCT}' as product,
                seat_tiers[seat_rank] as plan_tier,
                'seat' as billing_model,
                cast(least(seat_limits[seat_rank], seats_k) as integer) as seats_purchased,
                cast(null as double) as committed_units_per_month,
                seat_prices[seat_rank] as unit_price,
                start_date,
                churn_t
            from seat_terms
        ),
        usage_commits as (
            select *,
                round(case segment when 'enterprise' then 150000 when 'mid_market' then 30000
                      else 8000 end * (0.6 + u_seats) * pow(1.2, k)
                      -- bought later, it starts smaller
                      * case when usage_offset > 90 then 0.5 else 1.0 end, -2) as commit_k
            from terms
            where usage_offset is not null
        ),
        usage_ranked as (
            -- the tier whose unit limit leaves room over the commitment (>= 2.2x)
            select *, least(len(usage_tiers),
                       1 + len(list_filter(unit_limits, lambda x: x < commit_k * 2.2))) as usage_rank
            from usage_commits
        ),
        usage_lines as (
            select
                i, account_id, k, '{USAGE_PRODUCT}' as product,
                usage_tiers[usage_rank] as plan_tier,
                'usage' as billing_model,
                cast(null as integer) as seats_purchased,
                commit_k as committed_units_per_month,
                unit_prices[usage_rank] as unit_price,
                customer_since + usage_offset + 365 * k as start_date,
                churn_t
            from usage_ranked
        ),
        addon_lines as (
            select
                i, account_id, k, '{ADDON_PRODUCT}' as product,
                'standard' as plan_tier, 'flat' as billing_model,
                cast(null as integer), cast(null as double),
                case segment when 'enterprise' then 18000 when 'mid_market' then 9000
                     else 3000 end as unit_price,
                customer_since + addon_offset + 365 * k,
                churn_t
            from terms
            where addon_offset is not null
        ),
        all_lines as (
            select * from seat_lines
            union all select * from usage_lines
            union all select * from addon_lines
        )
        select
            'S' || cast(i as varchar) || '-' || product || '-' || cast(k as varchar)
                as subscription_id,
            account_id, i, k, product, plan_tier, billing_model, seats_purchased,
            committed_units_per_month, unit_price, false as is_amendment,
            round(case billing_model
                when 'seat' then seats_purchased * unit_price * 12
                when 'usage' then committed_units_per_month * unit_price * 12
                else unit_price end, 2) as arr,
            start_date,
            start_date + 364 as end_date,
            case when churn_t is not null
                      and {self.t0} + churn_t between start_date and start_date + 364
                 then {self.t0} + churn_t end as cancelled_on
        from all_lines
        where start_date <= {self.as_of}
          and (churn_t is null or start_date < {self.t0} + churn_t)
        """)
        self.expansions()
        self.sql("""
        insert into raw.subscriptions
        select subscription_id, account_id, product, plan_tier, billing_model, seats_purchased,
               committed_units_per_month, arr, start_date, end_date, cancelled_on
        from g_lines
        """)

    # -- expansions: the signals' moments, worked, won or lost; a win changes the contract
    def expansions(self) -> None:
        """Each account's expansion moments and the opportunity that follows one (most
        are worked, some ignored). A won seat or consumption expansion amends the
        contract (more seats, a higher commitment), which ends its trigger."""
        s = self.s
        self.sql(f"""
        create or replace temp table g_expansions as
        with moments as (
            -- growers cross 85% seat utilization about half way into each term; a
            -- small (smb) team buys its seats itself, through the one-click link of
            -- seat_true_up, within six weeks of its users passing 90% of the term's
            -- seats (two thirds into the term for a larger team); kept between day
            -- 182 and 215 of the term, clear of the 90 days after another product's
            -- renewal (day 90 or 240), where it would lend post_renewal_expansion a
            -- lift nobody planted
            select a.i, a.account_id, 'seat' as motion, l.k,
                   l.start_date + case when a.segment = 'smb' then least(215, greatest(182,
                       cast(365 * ln(ceil(0.9 * l.seats_purchased) / (0.74 * a.seats0)) / ln(1.35)
                            as integer) - 365 * l.k + 10 + {s.n('true_up', 30, 'a.i', 'l.k')}))
                       else 182 end as moment,
                   case when a.segment = 'smb' then 0.6 else 0.5 end as win_rate,
                   round(l.seats_purchased * 0.25) * 12 * l.unit_price as amount,
                   round(l.seats_purchased * 0.25) as added
            from g_accounts a join g_lines l on l.i = a.i and l.product = '{SEAT_PRODUCT}'
            where a.archetype = 'grower'
            union all
            -- over-consumers run over 1.3x their commitment from month seven
            select a.i, a.account_id, 'consumption', l.k, l.start_date + 215, 0.65,
                   0.8 * l.committed_units_per_month * 12 * l.unit_price,
                   0.8 * l.committed_units_per_month
            from g_accounts a join g_lines l on l.i = a.i and l.product = '{USAGE_PRODUCT}'
            where a.consumes_over_commit
            union all
            -- gated accounts that upgrade were sold the tier before the renewal
            select a.i, a.account_id, 'tier', a.upgrade_term,
                   a.customer_since + 365 * a.upgrade_term - 75, 0.9,
                   l.seats_purchased * 12 * (a.seat_prices[least(len(a.seat_prices), list_position(a.seat_tiers, l.plan_tier) + 1)] - l.unit_price), null
            from g_accounts a join g_lines l on l.i = a.i and l.product = '{SEAT_PRODUCT}'
                 and l.k = 0
            where a.upgrade_term is not null
            union all
            select a.i, a.account_id, 'tier', 0, a.customer_since + 200, 0.25,
                   l.seats_purchased * 12 * (a.seat_prices[least(len(a.seat_prices), list_position(a.seat_tiers, l.plan_tier) + 1)] - l.unit_price), null
            from g_accounts a join g_lines l on l.i = a.i and l.product = '{SEAT_PRODUCT}'
                 and l.k = 0
            where a.reaches_for_gated and a.upgrade_term is null
            union all
            -- the add-on bought after the core product was a cross-sell
            select a.i, a.account_id, 'cross_sell', 0, l.start_date - 45, 1.0, l.arr, null
            from g_accounts a join g_lines l on l.i = a.i and l.product = '{ADDON_PRODUCT}'
                 and l.k = 0
            where a.addon_offset > 0
            union all
            select a.i, a.account_id, 'cross_sell', 8, l.start_date - 45, 1.0, l.arr, null
            from g_accounts a join g_lines l on l.i = a.i and l.product = '{USAGE_PRODUCT}'
                 and l.k = 0
            where a.usage_offset > 90
            union all
            -- healthy parents of whitespace business units
            select p.i, p.account_id, 'bu_rollout', 0,
                   p.customer_since + 150 + {s.n('bu', 200, 'p.i')}, 0.4, 50000, null
            from g_accounts p
            where p.parent_account_id is null and p.archetype in ('grower', 'steady')
              and exists (select 1 from g_accounts c
                          where c.parent_account_id = p.account_id and c.is_whitespace)
            union all
            -- background: expansions that no signal announced
            select a.i, a.account_id,
                   {s.pick(['seat', 'cross_sell', 'tier', 'consumption'], s.n('bg_m', 4, 'a.i'))},
                   9, a.customer_since + 60 + {s.n('bg', 600, 'a.i')}, 0.3, 10000, null
            from g_accounts a
            where not a.is_whitespace and {s.u('bg_u', 'a.i')} < 0.12
        )
        select *,
               created_on + cycle_days as closed_on,
               -- an engaged buyer shows it (pricing, executives, new people) and
               -- closes more often: the compound accounts
               engaged,
               motion not in ('seat', 'consumption') or {s.u('worked', 'i', 'k', 'motion')} < 0.85
                   as is_worked
        from (
            select *, moment + 3 + {s.n('lag', 20, 'i', 'k', 'motion')} as created_on,
                   -- a self-serve (smb) seat purchase closes within days
                   case when motion = 'seat'
                             and (select segment from g_accounts a where a.i = m.i) = 'smb'
                        then 3 + {s.n('cycle', 14, 'i', 'k', 'motion')}
                        else 10 + {s.n('cycle', 30, 'i', 'k', 'motion')} end as cycle_days,
                   {s.u('win', 'i', 'k', 'motion')} < win_rate * case
                       when motion not in ('seat', 'consumption') and win_rate >= 0.5 then 1.0
                       else case (select archetype from g_accounts a where a.i = m.i)
                            when 'grower' then 1.2 when 'steady' then 0.9 else 0.5 end
                            * case when engaged then 1.5 else 0.6 end
                       end as wins
            from (select *, {s.u('engaged', 'i', 'k', 'motion')} < 0.2 as engaged from moments) m
        )
        """)
        # a won seat or consumption expansion amends the line until its renewal
        self.sql(f"""
        insert into g_lines
        select
            l.subscription_id || '-x',
            l.account_id, l.i, l.k, l.product, l.plan_tier, l.billing_model,
            case when e.motion = 'seat' then cast(e.added as integer) end,
            case when e.motion = 'consumption' then round(e.added, -2) end,
            l.unit_price, true,
            round(e.amount, 2),
            e.closed_on, l.end_date, l.cancelled_on
        from g_expansions e
        join g_lines l on l.i = e.i and l.k = e.k and not l.is_amendment
             and l.product = case e.motion when 'seat' then '{SEAT_PRODUCT}'
                                           else '{USAGE_PRODUCT}' end
        where e.motion in ('seat', 'consumption') and e.is_worked and e.wins
          and e.added > 0 and e.closed_on <= l.end_date and e.closed_on <= {self.as_of}
          and (l.cancelled_on is null or e.closed_on < l.cancelled_on)
        """)

    # -- users and seats ------------------------------------------------------------
    def users(self) -> None:
        s = self.s
        # Growers' assigned seats grow 35% a year from 74% of their first
        # purchase, so each term crosses 85% utilization about half way.
        self.sql(f"""
        create or replace temp table g_users as
        with sized as (
            select
                a.*,
                greatest(1, cast(case archetype
                    when 'grower' then least(
                        seats_limit_cap,
                        ceil(0.74 * seats0 * pow(1.35, ({self.as_of} - customer_since) / 365.0)))
                    when 'steady' then round(seats0 * (0.35 + 0.35 * u_seats))
                    when 'decliner' then round(seats0 * 0.65)
                    else round(seats0 * 0.55) end as integer)) as n_users
            from (
                select *, 1000000 as seats_limit_cap
                from g_accounts where not is_whitespace
            ) a
        ),
        each_user as (
            select *, cast(unnest(range(n_users)) as integer) as j from sized
        ),
        timed as (
            select
                *,
                cast(case archetype
                    when 'grower' then
                        365.0 * ln(greatest(j + 1, 0.74 * seats0) / (0.74 * seats0)) / ln(1.35)
                        + {s.n('jitter', 5, 'i', 'j')}
                    else {s.u('created', 'i', 'j')}
                         * least(365, {self.as_of} - customer_since)
                end as integer) as created_offset
            from each_user
        )
        select
            i, j,
            i * 100000 + j as user_num,
            'U' || cast(i as varchar) || '-' || cast(j as varchar) as user_id,
            account_id, archetype, segment, domain,
            customer_since + created_offset as created_on,
            case
                when archetype = 'churner' then {self.t0} + churn_t
                when archetype = 'decliner' and j >= n_users * 0.45 and j > 0
                     and {s.u('leaves', 'i', 'j')} < 0.7
                then {self.as_of} - {s.n('left', 200, 'i', 'j')}
            end as deactivated_on,
            case when {s.u('no_dept', 'i', 'j')} < 0.05 then null
                 else {s.pick(DEPARTMENTS, s.n('dept', f'''least({len(DEPARTMENTS)},
                    1 + created_offset // department_interval_days)''', 'i', 'j'))}
            end as department,
            {s.u('exec', 'i', 'j')} < 0.03 as is_executive,
            {s.u('power', 'i', 'j')} < case archetype when 'grower' then 0.3 else 0.08 end
                as is_power_user,
            upgrade_term, customer_since, seat_rank0, u_breadth, u_addon, seat_tiers
        from timed
        where customer_since + created_offset <= {self.as_of}
        """)
        # A team cannot outgrow the seats it bought: a newcomer beyond the
        # current term's seats gets a login when a renewal buys the seat.
        self.sql(f"""
        create or replace temp table g_seat_wait as
        with capacity as (
            -- the seats bought as of each line's start (a term, or an amendment in it)
            select l.i, l.start_date, l.end_date,
                   (select sum(o.seats_purchased) from g_lines o
                    where o.i = l.i and o.product = l.product
                      and l.start_date between o.start_date and o.end_date) as seats
            from g_lines l where l.product = '{SEAT_PRODUCT}'
        )
        select u.user_id,
               min(l.start_date) filter (where l.seats > u.j) as seat_from,
               min(l.start_date) filter (where l.seats > u.j
                                         and l.end_date >= u.created_on) as seat_by_term
        from g_users u
        join capacity l on l.i = u.i
        group by u.user_id
        """)
        self.sql("""
        update g_users set created_on = greatest(g_users.created_on, w.seat_by_term)
        from g_seat_wait w
        where w.user_id = g_users.user_id and w.seat_by_term is not null
        """)
        self.sql(f"""
        delete from g_users
        where user_id not in (select user_id from g_seat_wait where seat_by_term is not null)
           or created_on > {self.as_of}
        """)
        # A seat expansion ignored or lost: the customer frees seats instead,
        # removing about one login in seven (the newest ones wait for the renewal).
        self.sql(f"""
        update g_users set deactivated_on = c.cleaned_on
        from (
            select u.user_id, min(e.closed_on) as cleaned_on
            from g_users u
            join g_expansions e on e.i = u.i and e.motion = 'seat' and e.added is not null
                 and not (e.is_worked and e.wins)
            where u.j > 0 and u.created_on < e.closed_on and e.closed_on <= {self.as_of}
              and {s.u('cleanup', 'u.user_num', 'e.k')} < 0.15
            group by u.user_id
        ) c
        where c.user_id = g_users.user_id
          and (g_users.deactivated_on is null or g_users.deactivated_on > c.cleaned_on)
        """)
        # nobody leaves before arriving: a login created after its account
        # churned, or deactivated before its creation, never existed
        self.sql("delete from g_users where deactivated_on <= created_on")
        self.sql(f"""
        insert into raw.users
        select user_id, account_id, 'user' || cast(j as varchar) || '@' || domain,
               department, is_executive,
               cast(created_on as timestamp) + to_seconds({s.n('at', 36000, 'user_num')} + 28800),
               cast(deactivated_on as timestamp) + to_seconds(43200)
        from g_users
        """)
        self.sql(f"""
        insert into raw.seat_assignments
        select account_id, user_id, '{SEAT_PRODUCT}',
               cast(created_on as timestamp) + to_seconds({s.n('at', 36000, 'user_num')} + 28900),
               cast(deactivated_on as timestamp) + to_seconds(43200)
        from g_users
        """)

    # -- the account x day spine for low-volume behaviour ----------------------------------
    def account_days(self) -> None:
        # Buying behaviour gathers around a worked expansion with an engaged
        # buyer: from 45 days before its opportunity until it closes, the account
        # reads pricing, meets executives and brings new people in.
        self.sql("""
        create or replace temp table g_near as
        select distinct i, created_on - 45 + cast(unnest(range(0, closed_on - created_on + 46))
                                                 as integer) as day
        from g_expansions where is_worked and engaged
        """)
        self.sql(f"""
        create or replace temp table g_account_days as
        select
            a.*, a.t, {self.t0} + a.t as day,
            ({self.t0} + a.t - customer_since) as tenure,
            n.i is not null as near_expansion
        from (select *, cast(unnest(range({self.o.days})) as integer) as t from g_accounts where not is_whitespace) a
        left join g_near n on n.i = a.i and n.day = {self.t0} + a.t
        where {self.t0} + a.t >= customer_since
          and (churn_t is null or a.t < churn_t)
        """)

    # -- usage events -------------------------------------------------------------
    def usage_events(self) -> None:
        s, o = self.s, self.o
        seat_feature_lists = [
            _sql_list(self.features.get((SEAT_PRODUCT, r["plan_tier"]), []))
            for r in self.catalog[SEAT_PRODUCT]
        ]
        gated_lists = []
        tiers = [r["plan_tier"] for r in self.catalog[SEAT_PRODUCT]]
        for rank, tier in enumerate(tiers):
            own = set(self.features.get((SEAT_PRODUCT, tier), []))
            higher = [
                f for t in tiers[rank + 1:] for f in self.features.get((SEAT_PRODUCT, t), [])
                if f not in own
            ]
            gated_lists.append(_sql_list(sorted(set(higher)) or ["dashboards"]))
        addon_features = self.features.get((ADDON_PRODUCT, "standard"), ["ai_chat"])
        usage_features = self.features.get(
            (USAGE_PRODUCT, self.catalog[USAGE_PRODUCT][0]["plan_tier"]), ["ingest"]
        )

        activity = f"""
            case archetype
                when 'grower' then 0.45
                when 'steady' then 0.35
                when 'decliner' then 0.40 - 0.25 * least(1.0, greatest(0.0,
                     ({self.t0} + t - ({self.as_of} - 240)) / 240.0))
                else 0.25 end"""
        user_spans = f"""
            select *,
                cast(greatest(0, created_on - {self.t0}) as integer) as first_t,
                cast(least({o.days} - 1,
                     coalesce(deactivated_on, {self.as_of} + 1) - {self.t0} - 1) as integer)
                    as last_t
            from g_users"""
        # Power users are active most days with a few events each; everyone
        # else is active on a share of days, thinned to hit the event target.
        midpoint_activity = activity.replace(
            f"{self.t0} + t", f"{self.t0} + cast((first_t + last_t) // 2 as integer)")
        normal_user_days, power_user_days = self.con.execute(
            f"select sum(case when not is_power_user then (last_t - first_t + 1) "
            f"* least(1.0, {midpoint_activity}) else 0 end), "
            f"sum(case when is_power_user then last_t - first_t + 1 else 0 end) "
            f"from ({user_spans}) where last_t >= first_t"
        ).fetchone()
        account_day_rows = self.con.execute("select count(*) from g_account_days").fetchone()[0]
        gated_estimate = account_day_rows * 0.05
        usage_estimate = self.con.execute(
            "select count(*) * 3 from g_account_days where usage_offset is not null "
            "and day >= customer_since + usage_offset"
        ).fetchone()[0]
        power_activity, power_events_per_day = 0.55, 1.5
        power_estimate = (power_user_days or 0) * power_activity * power_events_per_day
        events_per_active_day = 3.0
        normal_target = o.target_events - usage_estimate - gated_estimate - power_estimate
        thin = min(1.0, max(0.01, normal_target / ((normal_user_days or 1.0) * events_per_active_day)))
        spread = 2 * events_per_active_day - 1

        # adopted features grow with tenure; breadth differs per account
        adopted = f"least(len(feats), 1 + cast(floor(u_breadth * len(feats)) as integer)" \
                  f" + cast(({self.t0} + t - customer_since) // 120 as integer))"
        self.sql(f"""
        insert into raw.usage_events
        with spans as ({user_spans}),
        user_days as (
            select *, cast(unnest(range(first_t, last_t + 1)) as integer) as t from spans where last_t >= first_t
        ),
        active as (
            select
                user_num, user_id, account_id, t, u_addon,
                case when upgrade_term is not null
                          and {self.t0} + t >= customer_since + 365 * upgrade_term
                     then least(seat_rank0 + 1, len(seat_tiers)) else seat_rank0 end as seat_rank,
                customer_since, u_breadth,
                1 + cast(floor({s.u('n', 'user_num', 't')}
                               * case when is_power_user then 2 else {spread} end) as integer)
                    as n_events,
                {s.u('dup', 'user_num', 't')} < 0.001 as has_duplicate
            from user_days
            where {s.u('active', 'user_num', 't')} < case when is_power_user
                then {power_activity} else least(1.0, {activity}) * {thin} end
        ),
        with_features as (
            select *, [{', '.join(seat_feature_lists)}][seat_rank] as feats from active
        ),
        events as (
            select *, cast(unnest(range(n_events + case when has_duplicate then 1 else 0 end)) as integer) as k
            from with_features
        )
        select
            'E' || cast(user_num as varchar) || '-' || cast(t as varchar) || '-'
                || cast(case when k = n_events then 0 else k end as varchar) as event_id,
            account_id,
            user_id,
            case when u_addon < 0.30 and {s.u('addon_use', 'user_num', 't', 'k')} < 0.08
                 then '{ADDON_PRODUCT}' else '{SEAT_PRODUCT}' end as product,
            case when u_addon < 0.30 and {s.u('addon_use', 'user_num', 't', 'k')} < 0.08
                 then {s.pick(addon_features, s.n('addon_f', len(addon_features), 'user_num', 't', 'k'))}
                 else feats[1 + {s.n('feature', adopted, 'user_num', 't', 'k % 2')}] end as feature,
            cast({self.t0} + t as timestamp)
                + to_seconds(25200 + {s.n('second', 43200, 'user_num', 't', 'k')}
                             + case when k = n_events then 1 else 0 end) as occurred_at,
            1.0 as quantity
        from events
        """)
        # Gated-feature attempts: a user of a lower tier reaching for a feature
        # of a higher one (the first user of the account, who never leaves).
        self.sql(f"""
        insert into raw.usage_events
        with attempts as (
            select d.*, list_position(d.seat_tiers, l.plan_tier) as seat_rank
            from g_account_days d
            join g_lines l on l.i = d.i and l.product = '{SEAT_PRODUCT}' and not l.is_amendment
                 and d.day between l.start_date and l.end_date
            -- gated accounts reach for the next tier in months five to seven of a term
            where {s.u('attempt', 'd.i', 'd.t')} < case
                when d.reaches_for_gated and d.day - l.start_date between 120 + d.survey_offset // 3
                                                                      and 200 + d.survey_offset // 3
                then 0.12 else 0.002 end
        )
        select
            'G' || cast(i as varchar) || '-' || cast(t as varchar),
            account_id,
            'U' || cast(i as varchar) || '-0',
            '{SEAT_PRODUCT}',
            list_extract([{', '.join(gated_lists)}][seat_rank],
                1 + {s.n('gated_f', 'len([' + ', '.join(gated_lists) + '][seat_rank])', 'i', 't')}),
            cast(day as timestamp) + to_seconds(30000 + {s.n('gs', 30000, 'i', 't')}),
            1.0
        from attempts
        where seat_rank < len(seat_tiers)
          and day >= (select min(created_on) from g_users u where u.account_id = attempts.account_id
                      and u.j = 0)
        """)
        # Consumption of the usage product: API traffic without a user, three
        # batches a day. Over-consumers ramp up to 1.4x their commitment each
        # term; when the higher commitment was not bought (ignored, lost) they
        # throttle back to 1.1x once the opportunity has closed.
        self.sql(f"""
        insert into raw.usage_events
        with days as (
            select d.*, l.committed_units_per_month as commit_units, l.start_date as line_start,
                   coalesce(d.day >= e.closed_on and not (e.is_worked and e.wins), false)
                       as throttled
            from g_account_days d
            join g_lines l
              on l.account_id = d.account_id and l.product = '{USAGE_PRODUCT}'
             and not l.is_amendment and d.day between l.start_date and l.end_date
            left join g_expansions e
              on e.i = d.i and e.k = l.k and e.motion = 'consumption' and e.amount > 0
             and e.added is not null
        ),
        batches as (select *, cast(unnest(range(3)) as integer) as b from days)
        select
            'P' || cast(i as varchar) || '-' || cast(t as varchar) || '-' || cast(b as varchar),
            account_id,
            null,
            '{USAGE_PRODUCT}',
            {s.pick(usage_features, s.n('uf', len(usage_features), 'i', 't', 'b'))},
            cast(day as timestamp) + to_seconds(3600 + b * 28000 + {s.n('us', 20000, 'i', 't', 'b')}),
            round(commit_units / 30.0 / 3.0
                * case when consumes_over_commit and throttled then 1.1
                       when consumes_over_commit
                       -- each term ramps from 0.9x to 1.4x of what was committed
                       -- (a 31-day month stays under 1.5x)
                       then 0.9 + 0.5 * least(1.0, greatest(0.0, (day - line_start - 60) / 120.0))
                       else 0.55 + 0.4 * u_seats end
                * (0.8 + 0.4 * {s.u('uq', 'i', 't', 'b')}), 1)
        from batches
        """)

    # -- marketing, NPS, tickets, CRM activities, outcomes ---------------------------
    def marketing_and_crm(self) -> None:
        s = self.s
        interest = """case
            when near_expansion then 0.03
            when archetype in ('decliner', 'churner') then 0.001
            else 0.002 end"""
        self.sql(f"""
        insert into raw.marketing_events
        select
            'M' || cast(i as varchar) || '-' || cast(t as varchar),
            account_id,
            case when {s.u('mk_user', 'i', 't')} < 0.7 then 'U' || cast(i as varchar) || '-0' end,
            case
                when {s.u('mk_type', 'i', 't')} < 0.40 then 'pricing_page_view'
                when {s.u('mk_type', 'i', 't')} < 0.55 then 'tier_comparison_view'
                when {s.u('mk_type', 'i', 't')} < 0.70 then 'webinar_attended'
                when {s.u('mk_type', 'i', 't')} < 0.85 then 'expansion_content_view'
                else 'feature_inquiry' end,
            cast(day as timestamp) + to_seconds(28800 + {s.n('mk_s', 36000, 'i', 't')})
        from g_account_days
        where {s.u('mk', 'i', 't')} < {interest}
          and day >= (select min(created_on) from g_users u where u.account_id = g_account_days.account_id
                      and u.j = 0)
        """)
        self.sql(f"""
        insert into raw.nps_responses
        with surveys as (
            select *, cast(unnest(range(1 + {s.n('nps_n', 4, 'i', 't')})) as integer) as r
            from g_account_days
            where (t + survey_offset) % 90 = 0
        )
        select
            'N' || cast(i as varchar) || '-' || cast(t as varchar) || '-' || cast(r as varchar),
            account_id,
            'U' || cast(i as varchar) || '-0',
            case archetype
                when 'grower' then 6 + {s.n('score', 5, 'i', 't', 'r')}
                when 'steady' then 5 + {s.n('score', 6, 'i', 't', 'r')}
                when 'decliner' then 2 + {s.n('score', 7, 'i', 't', 'r')}
                else {s.n('score', 7, 'i', 't', 'r')} end,
            cast(day as timestamp) + to_seconds(30000 + {s.n('nps_s', 30000, 'i', 't', 'r')})
        from surveys
        where day >= (select min(created_on) from g_users u where u.account_id = surveys.account_id
                      and u.j = 0)
        """)
        self.sql(f"""
        insert into raw.support_tickets
        with tickets as (
            select *,
                {s.u('prio', 'i', 't')} + case when archetype in ('decliner', 'churner')
                    then 0.25 else 0 end as u_priority,
                1 + {s.n('resolve', 14, 'i', 't')} as days_to_resolve
            from g_account_days
            where {s.u('ticket', 'i', 't')} < 0.02
                * case segment when 'enterprise' then 3 when 'mid_market' then 1.5 else 0.7 end
                * case when archetype in ('decliner', 'churner') then 3 else 1 end
        )
        select
            'T' || cast(i as varchar) || '-' || cast(t as varchar),
            account_id,
            case when u_priority < 0.35 then 'low' when u_priority < 0.80 then 'normal'
                 when u_priority < 1.05 then 'high' else 'urgent' end,
            cast(day as timestamp) + to_seconds(28800 + {s.n('tk_s', 36000, 'i', 't')}),
            case when day + days_to_resolve <= {self.as_of}
                      and {s.u('open', 'i', 't')} >= 0.08
                 then cast(day + days_to_resolve as timestamp) + to_seconds(40000) end
        from tickets
        """)
        self.sql(f"""
        insert into raw.crm_activities
        with acts as (
            select *,
                {s.u('exec_contact', 'i', 't')} < case when near_expansion then 0.25
                    else 0.02 end as is_exec,
                case when {s.u('new_contact', 'i', 't')} < case when near_expansion
                                                                 then 0.12 else 0.01 end
                     then 3 + tenure // 90
                     -- the usual contact; at an enterprise now and then one of two others
                     when segment <> 'enterprise' or {s.u('usual_contact', 'i', 't')} < 0.9 then 0
                     else {s.n('contact', 3, 'i', 't')} end as contact_n
            from g_account_days
            where {s.u('act', 'i', 't')} < case segment when 'enterprise' then 0.08
                  when 'mid_market' then 0.04 else 0.015 end
                  * case when near_expansion then 2 else 1 end
        )
        select
            'C' || cast(i as varchar) || '-' || cast(t as varchar),
            account_id,
            {s.pick(['meeting', 'call', 'email'], s.n('act_type', 3, 'i', 't'))},
            case when is_exec then 'exec' else 'contact' end || cast(contact_n as varchar)
                || '@' || domain,
            is_exec,
            cast(day as timestamp) + to_seconds(28800 + {s.n('act_s', 36000, 'i', 't')})
        from acts
        """)
        self.sql(f"""
        insert into raw.account_outcomes
        with candidates as (
            select i, account_id, archetype, customer_since, 'primary_use_case_live' as name,
                   customer_since + 45 + {s.n('o1', 60, 'i')} as achieved
            from g_accounts where not is_whitespace and {s.u('o1u', 'i')} < 0.8
            union all
            select i, account_id, archetype, customer_since, 'roi_positive',
                   customer_since + 180 + {s.n('o2', 220, 'i')}
            from g_accounts where not is_whitespace and archetype in ('grower', 'steady')
              and {s.u('o2u', 'i')} < 0.6
            union all
            select i, account_id, archetype, customer_since, 'executive_business_review_passed',
                   customer_since + 300 + {s.n('o3', 300, 'i')}
            from g_accounts where not is_whitespace and archetype = 'grower'
        )
        select 'O' || cast(i as varchar) || '-' || name, account_id, name,
               cast(achieved as timestamp) + to_seconds(50000)
        from candidates
        where achieved <= {self.as_of}
          and achieved >= (select min(created_on) from g_users u where u.account_id = candidates.account_id
                           and u.j = 0)
        """)

    # -- opportunities --------------------------------------------------------------
    def opportunities(self) -> None:
        """New business, renewals, and the worked expansions (see expansions())."""
        self.sql("""
        create or replace temp table g_opportunities as
        with first_lines as (
            select account_id, i, sum(arr) as arr, min(start_date) as start_date
            from g_lines where k = 0 and not is_amendment group by all
        ),
        renewals as (
            select account_id, i, k, product, arr, start_date from g_lines
            where k >= 1 and not is_amendment
        ),
        expansions as (select * from g_expansions where is_worked)
        select 'OPP-N-' || cast(i as varchar) as opportunity_id, account_id,
               'new_business' as opportunity_type, cast(null as varchar) as motion, arr as amount,
               start_date - 60 as created_on, start_date as closed_on, true as is_won
        from first_lines
        union all
        select 'OPP-R-' || cast(i as varchar) || '-' || product || '-' || cast(k as varchar),
               account_id, 'renewal', null, arr, start_date - 90, start_date, true
        from renewals
        union all
        select 'OPP-X-' || cast(i as varchar) || '-' || motion || '-' || cast(k as varchar),
               account_id, 'expansion', motion, round(amount, 2), created_on,
               closed_on, wins
        from expansions
        """)
        self.sql(f"""
        insert into raw.opportunities
        select opportunity_id, account_id, opportunity_type, motion, amount,
               cast(created_on as timestamp) + to_seconds(36000),
               case when closed_on <= {self.as_of}
                    then cast(closed_on as timestamp) + to_seconds(54000) end,
               case when closed_on <= {self.as_of} then is_won end,
               null
        from g_opportunities
        where created_on <= {self.as_of}
        """)
