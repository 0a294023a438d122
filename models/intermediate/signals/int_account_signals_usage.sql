{#- The usage signal categories of triggers.md, per account with an active
    line on as_of: approaching limits, adoption velocity, power users and
    multi-department usage, all windows ending as_of. -#}
{%- set d = as_of_date() -%}
{%- set window_days = var('expansion_usage_window_days') | int -%}
{%- set usage_days = [var('expansion_multi_department_days') | int, window_days] | max -%}

with accounts as (

    select * from {{ ref('int_as_of_accounts') }}

),

account_products as (

    select * from {{ ref('int_as_of_account_products') }}

),

usage_daily as (

    select * from {{ ref('int_usage_daily') }}
    where usage_date >= {{ add_days(1 - usage_days, d) }}
        and usage_date <= {{ d }}

),

users as (

    select * from {{ ref('stg_users') }}

),

approaching_limits as (

    select account_id
    from account_products
    where limit_utilization >= {{ var('expansion_approaching_limit') }}
        or seat_utilization >= {{ var('expansion_approaching_limit') }}
    group by account_id

),

-- one pass over the usage of both windows, one row per user who used it
recent_users as (

    select
        account_id,
        user_id,
        count(distinct case when usage_date >= {{ add_days(1 - window_days, d) }} then usage_date end)
            as active_days_in_window,
        max(case when usage_date >= {{ add_days(1 - var('expansion_multi_department_days'), d) }} then 1 else 0 end)
            as used_in_department_window
    from usage_daily
    where user_id is not null
    group by account_id, user_id

),

power_users as (

    select
        account_id,
        sum({{ as_int('active_days_in_window > 0') }}) as active_users,
        sum({{ as_int('active_days_in_window >= ' ~ var('expansion_power_user_min_days')) }}) as power_users
    from recent_users
    group by account_id

),

department_usage as (

    select recent_users.account_id, count(distinct users.department) as departments_in_window
    from recent_users
    inner join users
        on users.user_id = recent_users.user_id
    where users.department is not null
        and recent_users.used_in_department_window = 1
    group by recent_users.account_id

),

final as (

    select
        accounts.account_id,
        approaching_limits.account_id is not null as usage_approaching_limits,
        coalesce(
            accounts.active_users_previous_window > 0
            and accounts.active_users_in_window
                >= {{ var('expansion_velocity_ratio') }} * accounts.active_users_previous_window,
            false) as usage_adoption_velocity,
        coalesce(
            power_users.active_users > 0
            and power_users.power_users
                >= {{ var('expansion_power_user_share') }} * power_users.active_users,
            false) as usage_power_users,
        coalesce(department_usage.departments_in_window >= {{ var('expansion_multi_department_min') }}, false)
            as usage_multi_department
    from accounts
    left join approaching_limits on approaching_limits.account_id = accounts.account_id
    left join power_users on power_users.account_id = accounts.account_id
    left join department_usage on department_usage.account_id = accounts.account_id

)

select * from final
