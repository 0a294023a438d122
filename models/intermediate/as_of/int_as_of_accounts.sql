{#- The account facts of as_of, in one place: one row per account with an
    active line on as_of, with its contract position, health score and the
    rolling counts that the signal categories, urgency and evidence read.
    Every model that needs "the account on as_of" reads this one. -#}
{%- set d = as_of_date() -%}

with account_days as (

    select * from {{ ref('int_account_days') }}
    where date_day = {{ d }}

),

health as (

    select * from {{ ref('int_health_daily') }}
    where date_day = {{ d }}

),

activity as (

    select * from {{ ref('int_account_activity_daily') }}
    where date_day = {{ d }}

),

-- the usage window ending as_of and the one just before it
usage_now as (

    select * from {{ ref('int_account_usage_daily') }}
    where date_day = {{ d }}

),

usage_before as (

    select * from {{ ref('int_account_usage_daily') }}
    where date_day = {{ add_days(-(var('expansion_usage_window_days') | int), d) }}

),

final as (

    select
        account_days.account_id,
        account_days.arr,
        account_days.active_products,
        account_days.first_start_date,
        account_days.tenure_days,
        account_days.days_to_renewal,
        health.health_score,
        health.usage_intensity_score,
        health.breadth_score,
        health.sentiment_score,
        usage_now.active_users_in_window,
        usage_before.active_users_in_window as active_users_previous_window,
        activity.outcomes_in_window,
        activity.executive_activities_in_window,
        activity.feature_inquiries_in_window,
        activity.nps_responses_in_window,
        activity.nps
    from account_days
    left join health
        on health.account_id = account_days.account_id
    left join activity
        on activity.account_id = account_days.account_id
    left join usage_now
        on usage_now.account_id = account_days.account_id
    left join usage_before
        on usage_before.account_id = account_days.account_id

)

select * from final
