{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='usage_date',
        on_schema_change='fail'
    )
}}

{#- The only model that reads the event table. A scheduled run reprocesses
    the last expansion_dedupe_lookback_days days, so late and repeated
    deliveries within that span are counted once. -#}
{%- set lookback_days = var('expansion_dedupe_lookback_days', 3) | int -%}

with events as (

    select * from {{ ref('stg_usage_events') }}
    {% if is_incremental() %}
    where occurred_on >= (select {{ add_days(1 - lookback_days, 'max(usage_date)') }} from {{ this }})
    {% endif %}

),

-- a repeated event_id counts once: the delivery with the earliest occurred_at
ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by occurred_at, account_id, user_id, product, feature, quantity
        ) as delivery_rank
    from events

),

first_deliveries as (

    select * from ranked
    where delivery_rank = 1

),

daily as (

    select
        account_id,
        user_id,
        product,
        feature,
        occurred_on as usage_date,
        count(*) as event_count,
        {{ exact_sum("quantity") }} as quantity
    from first_deliveries
    group by account_id, user_id, product, feature, occurred_on

)

select * from daily
