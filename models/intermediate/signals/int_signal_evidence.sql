{#- For every key firing on as_of, the numbers that made it fire, as a JSON
    object text (the sync renders it in words). The numbers come from the
    trigger models themselves, or from the panel they read, so the evidence
    is by construction what the trigger saw. -#}
{%- set d = as_of_date() -%}

with firing as (

    select account_id, play_id, product
    from {{ ref('int_trigger_days') }}
    where date_day = {{ d }}

),

limits as (

    select * from {{ ref('int_limit_utilization_daily') }}
    where date_day = {{ d }}

),

activity as (

    select * from {{ ref('int_account_activity_daily') }}
    where date_day = {{ d }}

),

account_days as (

    select * from {{ ref('int_account_days') }}
    where date_day = {{ d }}

),

consumption as (

    select * from {{ ref('int_trigger_consumption_commit') }}
    where date_day = {{ d }}

),

departments as (

    select * from {{ ref('int_trigger_departmental_expansion') }}
    where date_day = {{ d }}

),

attach as (

    select * from {{ ref('int_trigger_feature_attach') }}
    where date_day = {{ d }}

),

rollout as (

    select * from {{ ref('int_trigger_bu_rollout') }}
    where date_day = {{ d }}

),

final as (

    select
        firing.account_id,
        firing.play_id,
        firing.product,
        case firing.play_id
            when 'seat_expansion' then {{ json_object([
                ['seats_assigned', 'limits.seats_assigned', 'integer'],
                ['seats_purchased', 'limits.seats_purchased', 'integer'],
                ['seat_utilization', round_to('limits.seat_utilization', 4), 'number'],
                ['sustained_days', var('expansion_seat_sustained_days'), 'integer']]) }}
            when 'departmental_expansion' then {{ json_object([
                ['new_departments', 'departments.new_departments', 'integer'],
                ['department_names', 'departments.department_names', 'string']]) }}
            when 'consumption_commit' then {{ json_object([
                ['last_month_units_used', round_to('consumption.last_month_units_used', 2), 'number'],
                ['last_month_units_committed', round_to('consumption.last_month_units_committed', 2), 'number'],
                ['last_month_ratio', round_to('consumption.last_month_ratio', 4), 'number'],
                ['lowest_ratio', round_to('consumption.lowest_ratio', 4), 'number'],
                ['months', var('expansion_consumption_months'), 'integer']]) }}
            when 'tier_upgrade' then {{ json_object([
                ['current_tier', 'limits.current_plan_tier', 'string'],
                ['limit_utilization', round_to('limits.limit_utilization', 4), 'number'],
                ['limit_level', 'limits.limit_level', 'string'],
                ['gated_events_30d', 'limits.gated_events_30d', 'integer']]) }}
            when 'feature_attach' then {{ json_object([
                ['prerequisite_product', 'attach.prerequisite_product', 'string'],
                ['feature_adoption', round_to('attach.feature_adoption', 4), 'number'],
                ['problem_events_30d', 'attach.problem_events_30d', 'integer']]) }}
            when 'outcome_cross_sell' then {{ json_object([
                ['outcomes_30d', 'activity.outcomes_30d', 'integer'],
                ['active_products', 'account_days.active_products', 'integer']]) }}
            when 'bu_rollout' then {{ json_object([
                ['health_score', 'rollout.health_score', 'number'],
                ['tenure_days', 'rollout.tenure_days', 'integer'],
                ['business_units_without_contract', 'rollout.business_units_without_contract', 'integer']]) }}
            when 'executive_expansion' then {{ json_object([
                ['executive_activities_14d', 'activity.executive_activities_14d', 'integer'],
                ['feature_inquiries_14d', 'activity.feature_inquiries_14d', 'integer']]) }}
            when 'post_renewal_expansion' then {{ json_object([
                ['nps', round_to('activity.nps', 1), 'number'],
                ['nps_responses_180d', 'activity.nps_responses_180d', 'integer']]) }}
        end as evidence
    from firing
    left join limits
        on limits.account_id = firing.account_id
        and limits.product = firing.product
    left join activity
        on activity.account_id = firing.account_id
    left join account_days
        on account_days.account_id = firing.account_id
    left join consumption
        on consumption.account_id = firing.account_id
        and consumption.product = firing.product
    left join departments
        on departments.account_id = firing.account_id
    left join attach
        on attach.account_id = firing.account_id
        and attach.product = firing.product
    left join rollout
        on rollout.account_id = firing.account_id

)

select * from final
