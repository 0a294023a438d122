{{ daily_panel_config() }}
{%- set first_day = incremental_first_day() %}

{#- One row per account, product and day on which the account has an active
    line of the product: what it owns that day. -#}
with lines as (

    select * from {{ ref('int_subscription_lines') }}

),

days as (

    select date_day from {{ ref('int_day_spine') }}
    where date_day >= {{ first_day }}

),

catalog as (

    select * from {{ ref('plan_catalog') }}

),

first_starts as (

    select account_id, product, min(start_date) as first_start_date
    from lines
    group by account_id, product

),

active_lines as (

    select
        lines.account_id,
        lines.product,
        days.date_day,
        lines.billing_model,
        lines.seats_purchased,
        lines.committed_units_per_month,
        lines.arr,
        lines.tier_rank,
        lines.top_tier_rank
    from lines
    inner join days
        on days.date_day >= lines.start_date
        and days.date_day <= lines.last_active_date

),

owned as (

    select
        account_id,
        product,
        date_day,
        sum(case when billing_model = 'seat' then coalesce(seats_purchased, 0) else 0 end)
            as seats_purchased,
        max(case when billing_model = 'seat' then 1 else 0 end) = 1 as has_seat_line,
        sum(case when billing_model = 'usage' then coalesce(committed_units_per_month, 0) else 0 end)
            as committed_units_per_month,
        sum(arr) as arr,
        max(tier_rank) as current_tier_rank,
        max(top_tier_rank) as top_tier_rank
    from active_lines
    group by account_id, product, date_day

),

final as (

    select
        owned.account_id,
        owned.product,
        owned.date_day,
        owned.seats_purchased,
        owned.has_seat_line,
        owned.committed_units_per_month,
        owned.arr,
        owned.current_tier_rank,
        catalog.plan_tier as current_plan_tier,
        owned.top_tier_rank,
        catalog.seat_limit,
        catalog.monthly_unit_limit,
        first_starts.first_start_date
    from owned
    left join catalog
        on catalog.product = owned.product
        and catalog.tier_rank = owned.current_tier_rank
    inner join first_starts
        on first_starts.account_id = owned.account_id
        and first_starts.product = owned.product

)

select * from final
