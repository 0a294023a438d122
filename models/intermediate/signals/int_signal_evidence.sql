{#- For every key firing on as_of, the numbers that made it fire, as a JSON
    object text (the sync renders it in words). The numbers come from the
    trigger models themselves, or from the as-of facts of the panels they
    read, so the evidence is by construction what the trigger saw. JSON keys
    are part of the mart's contract and keep their names (outcomes_30d...)
    whatever the windows are tuned to; `window_days` says the window a count
    was taken over, so the sentences never state a stale day count. Some
    keys look back for the talk track's growth figures (seats assigned 90
    days ago, limit utilization 30 days ago, units used the
    expansion_efficiency_months_back months before the last complete month):
    null when the panels do not know that day or month. -#}
{%- set d = as_of_date() -%}
{%- set months_back = var('expansion_efficiency_months_back') | int -%}

with firing as (

    select account_id, play_id, product
    from {{ ref('int_trigger_days') }}
    where date_day = {{ d }}

),

account_products as (

    select * from {{ ref('int_as_of_account_products') }}

),

accounts as (

    select * from {{ ref('int_as_of_accounts') }}

),

-- the products an account owns on as_of, by name
owned_products as (

    select
        account_id,
        {{ dbt.listagg('product', "', '", 'order by product') }} as products
    from account_products
    where has_active_line
    group by account_id

),

consumption as (

    select * from {{ ref('int_trigger_consumption_commit') }}
    where date_day = {{ d }}

),

-- seats assigned 90 days ago (seat_expansion) and limit utilization 30 days
-- ago (tier_upgrade): no row when no line of the product was active that day
-- or the day is before the panels
limits_earlier as (

    select
        account_id,
        product,
        max(case when date_day = {{ add_days(-90, d) }} then seats_assigned end)
            as seats_assigned_90d_ago,
        max(case when date_day = {{ add_days(-30, d) }} then limit_utilization end)
            as limit_utilization_30d_ago
    from {{ ref('int_limit_utilization_daily') }}
    where date_day in ({{ add_days(-90, d) }}, {{ add_days(-30, d) }})
    group by account_id, product

),

-- units used in the complete month months_back before the last complete one
consumption_before as (

    select * from {{ ref('int_consumption_monthly') }}
    where month_start = cast({{ dbt.dateadd('month', -months_back,
                                            dbt.date_trunc('month', last_complete_month_end(d))) }} as date)

),

efficiency as (

    select * from {{ ref('int_trigger_usage_efficiency') }}
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
                ['seats_assigned', 'account_products.seats_assigned', 'integer'],
                ['seats_purchased', 'account_products.seats_purchased', 'integer'],
                ['seat_utilization', round_to('account_products.seat_utilization', 4), 'number'],
                ['sustained_days', var('expansion_seat_sustained_days'), 'integer'],
                ['seats_assigned_90d_ago', 'limits_earlier.seats_assigned_90d_ago', 'integer']]) }}
            when 'departmental_expansion' then {{ json_object([
                ['new_departments', 'departments.new_departments', 'integer'],
                ['department_names', 'departments.department_names', 'string']]) }}
            when 'consumption_commit' then {{ json_object([
                ['last_month_units_used', round_to('consumption.last_month_units_used', 2), 'number'],
                ['last_month_units_committed', round_to('consumption.last_month_units_committed', 2), 'number'],
                ['last_month_ratio', round_to('consumption.last_month_ratio', 4), 'number'],
                ['lowest_ratio', round_to('consumption.lowest_ratio', 4), 'number'],
                ['months', var('expansion_consumption_months'), 'integer'],
                ['units_used_3_months_before', round_to('consumption_before.units_used', 2), 'number'],
                ['months_back', months_back, 'integer']]) }}
            when 'tier_upgrade' then {{ json_object([
                ['current_tier', 'account_products.current_plan_tier', 'string'],
                ['limit_utilization', round_to('account_products.limit_utilization', 4), 'number'],
                ['limit_level', 'account_products.limit_level', 'string'],
                ['gated_events_30d', 'account_products.gated_events_in_window', 'integer'],
                ['feature_gap', 'account_products.has_feature_gap', 'boolean'],
                ['window_days', var('expansion_feature_gap_days'), 'integer'],
                ['limit_utilization_30d_ago', round_to('limits_earlier.limit_utilization_30d_ago', 4), 'number']]) }}
            when 'feature_attach' then {{ json_object([
                ['prerequisite_product', 'attach.prerequisite_product', 'string'],
                ['feature_adoption', round_to('attach.feature_adoption', 4), 'number'],
                ['problem_events_30d', 'attach.problem_events_in_window', 'integer'],
                ['window_days', var('expansion_attach_window_days'), 'integer']]) }}
            when 'outcome_cross_sell' then {{ json_object([
                ['outcomes_30d', 'accounts.outcomes_in_window', 'integer'],
                ['active_products', 'accounts.active_products', 'integer'],
                ['owned_products', 'owned_products.products', 'string'],
                ['window_days', var('expansion_outcome_window_days'), 'integer']]) }}
            when 'bu_rollout' then {{ json_object([
                ['health_score', 'rollout.health_score', 'number'],
                ['tenure_days', 'rollout.tenure_days', 'integer'],
                ['business_units_without_contract', 'rollout.business_units_without_contract', 'integer']]) }}
            when 'executive_expansion' then {{ json_object([
                ['executive_activities_14d', 'accounts.executive_activities_in_window', 'integer'],
                ['feature_inquiries_14d', 'accounts.feature_inquiries_in_window', 'integer'],
                ['window_days', var('expansion_executive_window_days'), 'integer']]) }}
            when 'post_renewal_expansion' then {{ json_object([
                ['nps', round_to('accounts.nps', 1), 'number'],
                ['nps_responses_180d', 'accounts.nps_responses_in_window', 'integer'],
                ['window_days', var('expansion_nps_window_days'), 'integer']]) }}
            when 'usage_efficiency' then {{ json_object([
                ['last_month_units_used', round_to('efficiency.last_month_units_used', 2), 'number'],
                ['last_month_units_committed', round_to('efficiency.last_month_units_committed', 2), 'number'],
                ['units_used_3_months_before', round_to('efficiency.units_used_before', 2), 'number'],
                ['effective_unit_price', round_to('efficiency.effective_unit_price', 6), 'number'],
                ['effective_unit_price_before', round_to('efficiency.effective_unit_price_before', 6), 'number'],
                ['unit_price', round_to('efficiency.unit_price', 6), 'number'],
                ['overage_unit_price', round_to('efficiency.overage_unit_price', 6), 'number'],
                ['months_back', months_back, 'integer']]) }}
            when 'seat_true_up' then {{ json_object([
                ['seats_assigned', 'account_products.seats_assigned', 'integer'],
                ['seats_purchased', 'account_products.seats_purchased', 'integer'],
                ['seat_utilization', round_to('account_products.seat_utilization', 4), 'number']]) }}
        end as evidence
    from firing
    left join account_products
        on account_products.account_id = firing.account_id
        and account_products.product = firing.product
    left join accounts
        on accounts.account_id = firing.account_id
    left join owned_products
        on owned_products.account_id = firing.account_id
    left join consumption
        on consumption.account_id = firing.account_id
        and consumption.product = firing.product
    left join limits_earlier
        on limits_earlier.account_id = firing.account_id
        and limits_earlier.product = firing.product
    left join consumption_before
        on consumption_before.account_id = firing.account_id
        and consumption_before.product = firing.product
    left join efficiency
        on efficiency.account_id = firing.account_id
        and efficiency.product = firing.product
    left join departments
        on departments.account_id = firing.account_id
    left join attach
        on attach.account_id = firing.account_id
        and attach.product = firing.product
    left join rollout
        on rollout.account_id = firing.account_id

)

select * from final
