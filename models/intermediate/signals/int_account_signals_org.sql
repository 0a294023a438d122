{#- The organizational signal categories of triggers.md, per account with an
    active line on as_of: a budget cycle coming up, a new department
    (departmental_expansion's condition) and rising executive engagement. -#}
{%- set d = as_of_date() -%}
{%- set window_days = var('expansion_signal_window_days') | int -%}

with accounts as (

    select * from {{ ref('int_as_of_accounts') }}

),

account_profiles as (

    select * from {{ ref('stg_accounts') }}

),

new_departments as (

    -- the departmental_expansion condition, as its trigger evaluated it
    select distinct account_id
    from {{ ref('int_trigger_departmental_expansion') }}
    where date_day = {{ d }}

),

crm_activities as (

    select * from {{ ref('stg_crm_activities') }}

),

fiscal_years as (

    select
        account_id,
        cast({{ dbt.dateadd('month', 'fiscal_year_start_month - 1', dbt.date_trunc('year', d)) }} as date)
            as fiscal_start_this_year
    from account_profiles
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

executive_engagement as (

    select
        account_id,
        sum({{ as_int('occurred_on >= ' ~ add_days(1 - window_days, d)) }}) as executive_activities_in_window,
        sum({{ as_int('occurred_on < ' ~ add_days(1 - window_days, d)) }}) as executive_activities_previous_window
    from crm_activities
    where contact_is_executive
        and occurred_on >= {{ add_days(1 - 2 * window_days, d) }}
    group by account_id

),

final as (

    select
        accounts.account_id,
        coalesce(
            {{ days_between(d, 'budget_cycles.next_fiscal_start') }} <= {{ var('expansion_budget_cycle_days') }},
            false) as org_budget_cycle,
        new_departments.account_id is not null as org_new_department,
        coalesce(
            executive_engagement.executive_activities_in_window >= 1
            and executive_engagement.executive_activities_in_window
                > executive_engagement.executive_activities_previous_window,
            false) as org_exec_engagement_rising
    from accounts
    left join budget_cycles on budget_cycles.account_id = accounts.account_id
    left join new_departments on new_departments.account_id = accounts.account_id
    left join executive_engagement on executive_engagement.account_id = accounts.account_id

)

select * from final
