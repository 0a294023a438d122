{#- The 14 signals of triggers.md per account with an active line on as_of,
    combined from the four category models, with their count, the number of
    categories with a true signal, and the compound flag: enough signals from
    enough different categories ("usage growth plus outcome achievement plus
    organizational readiness", not three readings of one kind of thing). -#}
with accounts as (

    select * from {{ ref('int_as_of_accounts') }}

),

usage_signals as (

    select * from {{ ref('int_account_signals_usage') }}

),

outcome_signals as (

    select * from {{ ref('int_account_signals_outcome') }}

),

org_signals as (

    select * from {{ ref('int_account_signals_org') }}

),

buying_signals as (

    select * from {{ ref('int_account_signals_buying') }}

),

flags as (

    select
        accounts.account_id,
        usage_signals.usage_approaching_limits,
        usage_signals.usage_adoption_velocity,
        usage_signals.usage_power_users,
        usage_signals.usage_multi_department,
        outcome_signals.outcome_achieved,
        outcome_signals.outcome_feature_gap,
        outcome_signals.outcome_healthy,
        org_signals.org_budget_cycle,
        org_signals.org_new_department,
        org_signals.org_exec_engagement_rising,
        buying_signals.buying_pricing_interest,
        buying_signals.buying_feature_inquiry,
        buying_signals.buying_expansion_content,
        buying_signals.buying_new_stakeholders
    from accounts
    inner join usage_signals on usage_signals.account_id = accounts.account_id
    inner join outcome_signals on outcome_signals.account_id = accounts.account_id
    inner join org_signals on org_signals.account_id = accounts.account_id
    inner join buying_signals on buying_signals.account_id = accounts.account_id

),

counted as (

    select
        *,
        {{ signal_count_expression() }} as signal_count,
        {{ signal_category_count_expression() }} as signal_categories
    from flags

),

final as (

    select
        *,
        signal_count >= {{ var('expansion_compound_min_signals') }}
            and signal_categories >= {{ var('expansion_compound_min_categories') }} as compound
    from counted

)

select * from final
