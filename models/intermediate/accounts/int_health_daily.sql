{{ daily_panel_config() }}
{%- set first_day = incremental_first_day() %}

{#- The health score per account and day with an active line, and its three
    components, each 0-100 (see DECISIONLOG.md for the formula):

    usage intensity  active users per seat purchased, and units used against
                     units committed, each capped at 1 and averaged;
                     without either, active users against a reference team
    breadth          features used against features owned, and products used
                     against products owned, averaged
    sentiment        NPS, open urgent/high tickets, executive sponsor contact

    Every part rises with more active users, more breadth, better NPS and
    falls with more urgent tickets, never the other way. -#}
with account_days as (

    select * from {{ ref('int_account_days') }}
    where date_day >= {{ first_day }}

),

owned as (

    select * from {{ ref('int_account_product_days') }}
    where date_day >= {{ first_day }}

),

usage as (

    select * from {{ ref('int_account_usage_daily') }}
    where date_day >= {{ first_day }}

),

units as (

    select * from {{ ref('int_product_usage_daily') }}
    where date_day >= {{ first_day }}

),

activity as (

    select * from {{ ref('int_account_activity_daily') }}
    where date_day >= {{ first_day }}

),

tier_feature_counts as (

    {{ tier_feature_counts() }}

),

owned_totals as (

    select
        owned.account_id,
        owned.date_day,
        sum(owned.seats_purchased) as seats_purchased,
        sum(case when owned.committed_units_per_month > 0 then owned.committed_units_per_month end)
            as units_committed,
        sum(case when owned.committed_units_per_month > 0 then coalesce(units.units_in_window, 0) end)
            as units_used_in_window,
        sum(coalesce(tier_feature_counts.feature_count, 0)) as features_owned
    from owned
    left join units
        on units.account_id = owned.account_id
        and units.product = owned.product
        and units.date_day = owned.date_day
    left join tier_feature_counts
        on tier_feature_counts.product = owned.product
        and tier_feature_counts.plan_tier = owned.current_plan_tier
    group by owned.account_id, owned.date_day

),

inputs as (

    select
        account_days.account_id,
        account_days.date_day,
        account_days.active_products,
        coalesce(usage.active_users_in_window, 0) as active_users_in_window,
        coalesce(usage.features_used_in_window, 0) as features_used_in_window,
        coalesce(usage.products_used_in_window, 0) as products_used_in_window,
        owned_totals.seats_purchased,
        owned_totals.units_committed,
        owned_totals.units_used_in_window,
        owned_totals.features_owned,
        activity.nps,
        coalesce(activity.open_urgent_tickets, 0) as open_urgent_tickets,
        coalesce(activity.executive_activities_in_sentiment_window, 0) as executive_activities_in_sentiment_window
    from account_days
    inner join owned_totals
        on owned_totals.account_id = account_days.account_id
        and owned_totals.date_day = account_days.date_day
    left join usage
        on usage.account_id = account_days.account_id
        and usage.date_day = account_days.date_day
    left join activity
        on activity.account_id = account_days.account_id
        and activity.date_day = account_days.date_day

),

parts as (

    select
        *,
        case when seats_purchased > 0
            then {{ clamp(safe_divide('active_users_in_window', 'seats_purchased'), 0, 1) }} end
            as seat_activity,
        case when units_committed > 0
            then {{ clamp(safe_divide('units_used_in_window', 'units_committed'), 0, 1) }} end
            as commitment_use,
        {{ clamp(safe_divide('active_users_in_window', var('expansion_health_reference_users')), 0, 1) }}
            as team_activity,
        case when features_owned > 0
            then {{ clamp(safe_divide('features_used_in_window', 'features_owned'), 0, 1) }} end
            as feature_breadth,
        {{ clamp(safe_divide('products_used_in_window', 'active_products'), 0, 1) }} as product_breadth,
        case when nps is null then 0.5 else (nps + 100) / 200.0 end as nps_part,
        {{ clamp('1 - 0.25 * open_urgent_tickets', 0, 1) }} as ticket_part,
        case when executive_activities_in_sentiment_window > 0 then 1.0 else 0.5 end as executive_part
    from inputs

),

components as (

    select
        account_id,
        date_day,
        {{ round_to('100 * case
            when seat_activity is not null and commitment_use is not null
                then (seat_activity + commitment_use) / 2
            when seat_activity is not null then seat_activity
            when commitment_use is not null then commitment_use
            else team_activity
        end', 1) }} as usage_intensity_score,
        {{ round_to('100 * case
            when feature_breadth is not null then (feature_breadth + coalesce(product_breadth, 0)) / 2
            else coalesce(product_breadth, 0)
        end', 1) }} as breadth_score,
        {{ round_to('100 * (nps_part + ticket_part + executive_part) / 3', 1) }} as sentiment_score
    from parts

),

{%- set w_usage = var('expansion_health_weight_usage') -%}
{%- set w_breadth = var('expansion_health_weight_breadth') -%}
{%- set w_sentiment = var('expansion_health_weight_sentiment') %}

final as (

    select
        account_id,
        date_day,
        {{ round_to(
            '(' ~ w_usage ~ ' * usage_intensity_score + ' ~ w_breadth ~ ' * breadth_score + '
            ~ w_sentiment ~ ' * sentiment_score) / (' ~ (w_usage + w_breadth + w_sentiment) ~ ')',
            1) }} as health_score,
        usage_intensity_score,
        breadth_score,
        sentiment_score
    from components

)

select * from final
