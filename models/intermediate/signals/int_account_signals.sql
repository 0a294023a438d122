{#- The 14 signal categories of triggers.md, per account with an active line
    on as_of, all windows ending as_of. -#}
{%- set d = as_of_date() -%}

with account_days as (

    select * from {{ ref('int_account_days') }}
    where date_day = {{ d }}

),

accounts as (

    select * from {{ ref('stg_accounts') }}

),

limits as (

    select * from {{ ref('int_limit_utilization_daily') }}
    where date_day = {{ d }}

),

account_usage as (

    select * from {{ ref('int_account_usage_daily') }}

),

health as (

    select * from {{ ref('int_health_daily') }}
    where date_day = {{ d }}

),

usage_daily as (

    select * from {{ ref('int_usage_daily') }}
    where usage_date >= {{ add_days(1 - var('expansion_multi_department_days'), d) }}
        and usage_date <= {{ d }}

),

users as (

    select * from {{ ref('stg_users') }}

),

new_departments as (

    -- the departmental_expansion condition, as its trigger evaluated it
    select distinct account_id
    from {{ ref('int_trigger_departmental_expansion') }}
    where date_day = {{ d }}

),

outcomes as (

    select * from {{ ref('stg_account_outcomes') }}

),

crm_activities as (

    select * from {{ ref('stg_crm_activities') }}

),

marketing_events as (

    select * from {{ ref('stg_marketing_events') }}
    where occurred_on >= {{ add_days(-29, d) }}

),

approaching_limits as (

    select account_id
    from limits
    where limit_utilization >= {{ var('expansion_approaching_limit') }}
        or seat_utilization >= {{ var('expansion_approaching_limit') }}
    group by account_id

),

feature_gaps as (

    select account_id
    from limits
    where has_feature_gap
    group by account_id

),

velocity as (

    select
        recent.account_id,
        recent.active_users_30d,
        earlier.active_users_30d as active_users_previous_30d
    from account_usage as recent
    inner join account_usage as earlier
        on earlier.account_id = recent.account_id
        and earlier.date_day = {{ add_days(-30, d) }}
    where recent.date_day = {{ d }}

),

-- one pass over the last 90 days of usage, one row per user who used it
recent_users as (

    select
        account_id,
        user_id,
        count(distinct case when usage_date >= {{ add_days(-29, d) }} then usage_date end)
            as active_days_30d
    from usage_daily
    where user_id is not null
    group by account_id, user_id

),

power_users as (

    select
        account_id,
        sum({{ as_int('active_days_30d > 0') }}) as active_users,
        sum({{ as_int('active_days_30d >= ' ~ var('expansion_power_user_min_days')) }}) as power_users
    from recent_users
    group by account_id

),

department_usage as (

    select recent_users.account_id, count(distinct users.department) as departments_90d
    from recent_users
    inner join users
        on users.user_id = recent_users.user_id
    where users.department is not null
    group by recent_users.account_id

),

recent_outcomes as (

    select distinct account_id
    from outcomes
    where achieved_on >= {{ add_days(1 - var('expansion_outcome_recent_days'), d) }}

),

executive_engagement as (

    select
        account_id,
        sum({{ as_int('occurred_on >= ' ~ add_days(-29, d)) }}) as executive_activities_30d,
        sum({{ as_int('occurred_on < ' ~ add_days(-29, d)) }}) as executive_activities_previous_30d
    from crm_activities
    where contact_is_executive
        and occurred_on >= {{ add_days(-59, d) }}
    group by account_id

),

buying as (

    select
        account_id,
        max({{ as_int("event_type in ('pricing_page_view', 'tier_comparison_view')") }}) as pricing_interest,
        max({{ as_int("event_type = 'feature_inquiry'") }}) as feature_inquiry,
        max({{ as_int("event_type in ('webinar_attended', 'expansion_content_view')") }}) as expansion_content
    from marketing_events
    group by account_id

),

-- the same person writes their address in different cases
recent_contacts as (

    select distinct account_id, lower(contact_email) as contact_email
    from crm_activities
    where contact_email is not null
        and occurred_on >= {{ add_days(-29, d) }}

),

earlier_contacts as (

    select distinct account_id, lower(contact_email) as contact_email
    from crm_activities
    where contact_email is not null
        and occurred_on >= {{ add_days(-(29 + var('expansion_new_stakeholder_lookback_days')), d) }}
        and occurred_on < {{ add_days(-29, d) }}

),

new_stakeholders as (

    select distinct recent_contacts.account_id
    from recent_contacts
    left join earlier_contacts
        on earlier_contacts.account_id = recent_contacts.account_id
        and earlier_contacts.contact_email = recent_contacts.contact_email
    where earlier_contacts.account_id is null

),

fiscal_years as (

    select
        account_id,
        cast({{ dbt.dateadd('month', 'fiscal_year_start_month - 1', dbt.date_trunc('year', d)) }} as date)
            as fiscal_start_this_year
    from accounts
    where fiscal_year_start_month between 1 and 12

),

budget_cycles as (

    select
        account_id,
        case
            when fiscal_start_this_year > {{ d }} then fiscal_start_this_year
            else cast({{ dbt.dateadd('month', 12, 'fiscal_start_this_year') }} as date)
        end as next_fiscal_start
    from fiscal_years

),

flags as (

    select
        account_days.account_id,
        approaching_limits.account_id is not null as usage_approaching_limits,
        coalesce(
            velocity.active_users_previous_30d > 0
            and velocity.active_users_30d
                >= {{ var('expansion_velocity_ratio') }} * velocity.active_users_previous_30d,
            false) as usage_adoption_velocity,
        coalesce(
            power_users.active_users > 0
            and power_users.power_users
                >= {{ var('expansion_power_user_share') }} * power_users.active_users,
            false) as usage_power_users,
        coalesce(department_usage.departments_90d >= {{ var('expansion_multi_department_min') }}, false)
            as usage_multi_department,
        recent_outcomes.account_id is not null as outcome_achieved,
        feature_gaps.account_id is not null as outcome_feature_gap,
        coalesce(health.health_score >= {{ var('expansion_healthy_score') }}, false) as outcome_healthy,
        coalesce(
            {{ days_between(d, 'budget_cycles.next_fiscal_start') }} <= {{ var('expansion_budget_cycle_days') }},
            false) as org_budget_cycle,
        new_departments.account_id is not null as org_new_department,
        coalesce(
            executive_engagement.executive_activities_30d >= 1
            and executive_engagement.executive_activities_30d
                > executive_engagement.executive_activities_previous_30d,
            false) as org_exec_engagement_rising,
        coalesce(buying.pricing_interest = 1, false) as buying_pricing_interest,
        coalesce(buying.feature_inquiry = 1, false) as buying_feature_inquiry,
        coalesce(buying.expansion_content = 1, false) as buying_expansion_content,
        new_stakeholders.account_id is not null as buying_new_stakeholders
    from account_days
    left join approaching_limits on approaching_limits.account_id = account_days.account_id
    left join velocity on velocity.account_id = account_days.account_id
    left join power_users on power_users.account_id = account_days.account_id
    left join department_usage on department_usage.account_id = account_days.account_id
    left join recent_outcomes on recent_outcomes.account_id = account_days.account_id
    left join feature_gaps on feature_gaps.account_id = account_days.account_id
    left join health on health.account_id = account_days.account_id
    left join budget_cycles on budget_cycles.account_id = account_days.account_id
    left join new_departments on new_departments.account_id = account_days.account_id
    left join executive_engagement on executive_engagement.account_id = account_days.account_id
    left join buying on buying.account_id = account_days.account_id
    left join new_stakeholders on new_stakeholders.account_id = account_days.account_id

),

{%- set categories = [
    'usage_approaching_limits', 'usage_adoption_velocity', 'usage_power_users', 'usage_multi_department',
    'outcome_achieved', 'outcome_feature_gap', 'outcome_healthy',
    'org_budget_cycle', 'org_new_department', 'org_exec_engagement_rising',
    'buying_pricing_interest', 'buying_feature_inquiry', 'buying_expansion_content', 'buying_new_stakeholders'
] %}

final as (

    select
        *,
        {% for c in categories %}{{ as_int(c) }}{% if not loop.last %} + {% endif %}{% endfor %}
            as signal_count
    from flags

)

select
    *,
    signal_count >= {{ var('expansion_compound_min_signals') }} as compound
from final
