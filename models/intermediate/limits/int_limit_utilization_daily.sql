{{ daily_panel_config() }}
{%- set first_day = incremental_first_day() %}

{#- Per account, product and day with an active line: seat utilization
    against seats purchased, limit utilization against the current tier's
    limits, its level, and the feature-gap events of tier_upgrade. -#}
with owned as (

    select * from {{ ref('int_account_product_days') }}
    where date_day >= {{ first_day }}

),

seats as (

    select * from {{ ref('int_seats_daily') }}
    where date_day >= {{ first_day }}

),

units as (

    select * from {{ ref('int_product_usage_daily') }}
    where date_day >= {{ first_day }}

),

feature_gaps as (

    select * from {{ ref('int_feature_gap_daily') }}
    where date_day >= {{ first_day }}

),

joined as (

    select
        owned.account_id,
        owned.product,
        owned.date_day,
        owned.current_tier_rank,
        owned.current_plan_tier,
        owned.top_tier_rank,
        owned.has_seat_line,
        owned.seats_purchased,
        owned.seat_limit,
        owned.monthly_unit_limit,
        coalesce(seats.seats_assigned, 0) as seats_assigned,
        coalesce(units.units_in_window, 0) as units_in_window,
        coalesce(feature_gaps.gated_events_in_window, 0) as gated_events_in_window
    from owned
    left join seats
        on seats.account_id = owned.account_id
        and seats.product = owned.product
        and seats.date_day = owned.date_day
    left join units
        on units.account_id = owned.account_id
        and units.product = owned.product
        and units.date_day = owned.date_day
    left join feature_gaps
        on feature_gaps.account_id = owned.account_id
        and feature_gaps.product = owned.product
        and feature_gaps.tier_rank = owned.current_tier_rank
        and feature_gaps.date_day = owned.date_day

),

ratios as (

    select
        *,
        case when seats_purchased > 0
            then {{ safe_divide('seats_assigned', 'seats_purchased') }} end as seat_utilization,
        {{ safe_divide('seats_assigned', 'seat_limit') }} as seat_limit_utilization,
        {{ safe_divide('units_in_window', 'monthly_unit_limit') }} as unit_limit_utilization
    from joined

),

final as (

    select
        *,
        case
            when seat_limit_utilization is null then unit_limit_utilization
            when unit_limit_utilization is null then seat_limit_utilization
            when seat_limit_utilization >= unit_limit_utilization then seat_limit_utilization
            else unit_limit_utilization
        end as limit_utilization,
        current_tier_rank < top_tier_rank as below_top_tier,
        gated_events_in_window >= {{ var('expansion_feature_gap_min_events') }} as has_feature_gap
    from ratios

),

leveled as (

    select
        *,
        case
            when limit_utilization >= {{ var('expansion_limit_intervention') }} then 'intervention'
            when limit_utilization >= {{ var('expansion_limit_action') }} then 'action'
            when limit_utilization >= {{ var('expansion_limit_warning') }} then 'warning'
        end as limit_level
    from final

)

select * from leveled
