{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='usage_date',
        on_schema_change='fail'
    )
}}

{#- The only model that reads the event table. A repeated event_id counts
    once: the delivery with the earliest occurred_at. Rather than ranking
    10^8 rows, it aggregates them all, finds the few ids that repeat, and
    subtracts their later deliveries. A scheduled run reprocesses the last
    expansion_dedupe_lookback_days days, so late and repeated deliveries
    within that span count once too. -#}
{%- set lookback_days = var('expansion_dedupe_lookback_days') | int -%}
{%- set grain = ['account_id', 'user_id', 'product', 'feature', 'occurred_on'] -%}
{#- A scheduled run's first day, as a literal: a timestamp bound on the
    event column lets the warehouse skip what it can (DuckDB's zone maps, a
    partitioned table's partitions); none means no stored day yet. -#}
{%- set since_iso = none -%}
{%- if is_incremental() and execute -%}
    {%- set last = run_query("select max(usage_date) from " ~ this).columns[0].values()[0] -%}
    {%- if last is not none -%}
        {%- set last_day = modules.datetime.date.fromisoformat((last | string)[:10]) -%}
        {%- set since_iso = (last_day - modules.datetime.timedelta(days=lookback_days - 1)).isoformat() -%}
    {%- endif -%}
{%- endif %}

{#- The full build reads the events in each branch below rather than storing
    10^8 rows once (inline_cte); a scheduled run's few days are stored once. #}
with events as {{ inline_cte() if not is_incremental() }} (

    select * from {{ ref('stg_usage_events') }}
    {% if is_incremental() %}
    where {% if since_iso is none %}1 = 0{% else %}occurred_at >= cast('{{ since_iso }}' as {{ dbt.type_timestamp() }}){% endif %}
    {% endif %}

),

repeated_buckets as (

    select {{ event_id_bucket('event_id') }} as id_bucket
    from events
    group by {{ event_id_bucket('event_id') }}
    having count(*) > 1

),

possible_repeats as (

    select *
    from events
    where {{ event_id_bucket('event_id') }} in (select id_bucket from repeated_buckets)

),

ranked_repeats as (

    select
        *,
        row_number() over (
            partition by event_id
            order by occurred_at, account_id, user_id, product, feature, quantity
        ) as delivery_rank
    from possible_repeats

),

-- every delivery but the first of each id: these must not count
later_deliveries as (

    select {{ grain | join(', ') }}, count(*) as event_count,
        sum(cast(quantity as {{ type_exact() }})) as quantity
    from ranked_repeats
    where delivery_rank > 1
    group by {{ grain | join(', ') }}

),

all_deliveries as (

    select {{ grain | join(', ') }}, count(*) as event_count,
        sum(cast(quantity as {{ type_exact() }})) as quantity
    from events
    group by {{ grain | join(', ') }}

),

daily as (

    select
        all_deliveries.account_id,
        all_deliveries.user_id,
        all_deliveries.product,
        all_deliveries.feature,
        all_deliveries.occurred_on as usage_date,
        all_deliveries.event_count - coalesce(later_deliveries.event_count, 0) as event_count,
        cast(all_deliveries.quantity - coalesce(later_deliveries.quantity, 0) as {{ type_double() }})
            as quantity
    from all_deliveries
    left join later_deliveries
        on later_deliveries.account_id = all_deliveries.account_id
        and (later_deliveries.user_id = all_deliveries.user_id
             or (later_deliveries.user_id is null and all_deliveries.user_id is null))
        and later_deliveries.product = all_deliveries.product
        and later_deliveries.feature = all_deliveries.feature
        and later_deliveries.occurred_on = all_deliveries.occurred_on

)

select * from daily
where event_count > 0
