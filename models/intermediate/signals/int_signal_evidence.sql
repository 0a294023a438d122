{#- For every key firing on as_of, the numbers that made it fire, as a JSON
    object text (the sync renders it in words). The numbers come from the
    trigger models themselves, or from the as-of facts of the panels they
    read, so the evidence is by construction what the trigger saw. JSON keys
    are part of the mart's contract and keep their names (outcomes_30d...)
    whatever the windows are tuned to; `window_days` says the window a count
    was taken over, so the sentences never state a stale day count. -#}
{%- set d = as_of_date() -%}

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
                ['current_tier', 'account_products.current_plan_tier', 'string'],
                ['limit_utilization', round_to('account_products.limit_utilization', 4), 'number'],
                ['limit_level', 'account_products.limit_level', 'string'],
                ['gated_events_30d', 'account_products.gated_events_in_window', 'integer'],
                ['feature_gap', 'account_products.has_feature_gap', 'boolean'],
                ['window_days', var('expansion_feature_gap_days'), 'integer']]) }}
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
    left join departments
        on departments.account_id = firing.account_id
    left join attach
        on attach.account_id = firing.account_id
        and attach.product = firing.product
    left join rollout
        on rollout.account_id = firing.account_id

)

select * from final
