{#- For every key firing on as_of, the numbers that made it fire, as a JSON
    object text (the sync renders it in words). -#}
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

consumption as (

    select * from {{ ref('int_consumption_monthly') }}

),

activity as (

    select * from {{ ref('int_account_activity_daily') }}
    where date_day = {{ d }}

),

account_days as (

    select * from {{ ref('int_account_days') }}
    where date_day = {{ d }}

),

health as (

    select * from {{ ref('int_health_daily') }}
    where date_day = {{ d }}

),

adoption as (

    select * from {{ ref('int_feature_adoption_daily') }}
    where date_day = {{ d }}

),

owned as (

    select * from {{ ref('int_account_product_days') }}
    where date_day = {{ d }}

),

attach_rules as (

    select * from {{ ref('attach_rules') }}

),

departments as (

    select * from {{ ref('int_department_first_usage') }}

),

families as (

    select * from {{ ref('int_account_families') }}

),

last_two_months as (

    select
        account_id,
        product,
        max(case when month_end = {{ last_complete_month_end(d) }}
            then consumption_ratio end) as last_month_ratio,
        min(consumption_ratio) as lowest_ratio,
        max(case when month_end = {{ last_complete_month_end(d) }}
            then units_used end) as last_month_units_used,
        max(case when month_end = {{ last_complete_month_end(d) }}
            then units_committed end) as last_month_units_committed
    from consumption
    where month_end >= cast({{ dbt.dateadd('month', -var('expansion_consumption_months'),
                                           first_incomplete_month(d)) }} as date)
        and month_end <= {{ d }}
    group by account_id, product

),

new_departments as (

    select
        account_id,
        count(*) as new_departments,
        {{ dbt.listagg('department', "', '", "order by department") }} as department_names
    from departments
    where first_usage_date >= cast({{ dbt.date_trunc('quarter', d) }} as date)
        and first_usage_date <= {{ d }}
    group by account_id

),

attach as (

    select
        attach_rules.offer_product,
        owned.account_id,
        max(attach_rules.prerequisite_product) as prerequisite_product,
        max({{ safe_divide('tier_adoption.tier_features_used_30d', 'tier_size.feature_count') }})
            as feature_adoption,
        max(problem.problem_events_30d) as problem_events_30d
    from attach_rules
    inner join owned
        on owned.product = attach_rules.prerequisite_product
    left join adoption as tier_adoption
        on tier_adoption.account_id = owned.account_id
        and tier_adoption.product = owned.product
        and tier_adoption.tier_rank = owned.current_tier_rank
        and tier_adoption.problem_feature = ''
    left join adoption as problem
        on problem.account_id = owned.account_id
        and problem.product = owned.product
        and problem.tier_rank = 0
        and problem.problem_feature = attach_rules.problem_feature
    left join ({{ tier_feature_counts() }}) as tier_size
        on tier_size.product = owned.product
        and tier_size.plan_tier = owned.current_plan_tier
    group by attach_rules.offer_product, owned.account_id

),

whitespace as (

    select families.account_id, count(*) - count(account_days.account_id) as business_units_without_contract
    from families
    left join account_days
        on account_days.account_id = families.member_account_id
    group by families.account_id

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
                ['new_departments', 'new_departments.new_departments', 'integer'],
                ['department_names', 'new_departments.department_names', 'string']]) }}
            when 'consumption_commit' then {{ json_object([
                ['last_month_units_used', round_to('last_two_months.last_month_units_used', 2), 'number'],
                ['last_month_units_committed', round_to('last_two_months.last_month_units_committed', 2), 'number'],
                ['last_month_ratio', round_to('last_two_months.last_month_ratio', 4), 'number'],
                ['lowest_ratio', round_to('last_two_months.lowest_ratio', 4), 'number'],
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
                ['health_score', 'health.health_score', 'number'],
                ['tenure_days', 'account_days.tenure_days', 'integer'],
                ['business_units_without_contract', 'whitespace.business_units_without_contract', 'integer']]) }}
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
    left join last_two_months
        on last_two_months.account_id = firing.account_id
        and last_two_months.product = firing.product
    left join new_departments
        on new_departments.account_id = firing.account_id
    left join attach
        on attach.account_id = firing.account_id
        and attach.offer_product = firing.product
    left join activity
        on activity.account_id = firing.account_id
    left join account_days
        on account_days.account_id = firing.account_id
    left join health
        on health.account_id = firing.account_id
    left join whitespace
        on whitespace.account_id = firing.account_id

)

select * from final
