{#- The account-product facts of as_of, in one place: one row per account and
    product with an active line on as_of or a consumption record for the last
    complete month (a key whose product the account no longer owns, e.g. a
    feature_attach offer, still reads last month's consumption). Limit and
    seat utilization, the limit level and the gated-feature events come from
    as_of; the consumption ratio from the last month complete on as_of. -#}
{%- set d = as_of_date() -%}

with limits as (

    select * from {{ ref('int_limit_utilization_daily') }}
    where date_day = {{ d }}

),

last_complete_month as (

    select * from {{ ref('int_consumption_monthly') }}
    where month_end = {{ last_complete_month_end(d) }}

),

-- union all, then distinct: a bare UNION does not parse on BigQuery
keys as (

    select distinct account_id, product
    from (
        select account_id, product from limits
        union all
        select account_id, product from last_complete_month
    ) as both_panels

),

final as (

    select
        keys.account_id,
        keys.product,
        limits.account_id is not null as has_active_line,
        limits.current_plan_tier,
        limits.seats_assigned,
        limits.seats_purchased,
        limits.seat_utilization,
        limits.limit_utilization,
        limits.limit_level,
        limits.gated_events_in_window,
        limits.has_feature_gap,
        last_complete_month.consumption_ratio as last_month_consumption_ratio
    from keys
    left join limits
        on limits.account_id = keys.account_id
        and limits.product = keys.product
    left join last_complete_month
        on last_complete_month.account_id = keys.account_id
        and last_complete_month.product = keys.product

)

select * from final
