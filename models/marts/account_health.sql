{#- One row per account with an active line on as_of: the health score, its
    three components, the 14 signals, their count and the number of
    categories with one. -#}
with signals as (

    select * from {{ ref('int_account_signals') }}

),

health as (

    -- an account without a health row on as_of has no score to report
    select * from {{ ref('int_as_of_accounts') }}
    where health_score is not null

),

final as (

    select
        cast(signals.account_id as {{ dbt.type_string() }}) as account_id,
        {{ as_of_date() }} as as_of,
        cast(health.health_score as {{ type_double() }}) as health_score,
        cast(health.usage_intensity_score as {{ type_double() }}) as usage_intensity_score,
        cast(health.breadth_score as {{ type_double() }}) as breadth_score,
        cast(health.sentiment_score as {{ type_double() }}) as sentiment_score,
        cast(signals.usage_approaching_limits as {{ dbt.type_boolean() }}) as usage_approaching_limits,
        cast(signals.usage_adoption_velocity as {{ dbt.type_boolean() }}) as usage_adoption_velocity,
        cast(signals.usage_power_users as {{ dbt.type_boolean() }}) as usage_power_users,
        cast(signals.usage_multi_department as {{ dbt.type_boolean() }}) as usage_multi_department,
        cast(signals.outcome_achieved as {{ dbt.type_boolean() }}) as outcome_achieved,
        cast(signals.outcome_feature_gap as {{ dbt.type_boolean() }}) as outcome_feature_gap,
        cast(signals.outcome_healthy as {{ dbt.type_boolean() }}) as outcome_healthy,
        cast(signals.org_budget_cycle as {{ dbt.type_boolean() }}) as org_budget_cycle,
        cast(signals.org_new_department as {{ dbt.type_boolean() }}) as org_new_department,
        cast(signals.org_exec_engagement_rising as {{ dbt.type_boolean() }}) as org_exec_engagement_rising,
        cast(signals.buying_pricing_interest as {{ dbt.type_boolean() }}) as buying_pricing_interest,
        cast(signals.buying_feature_inquiry as {{ dbt.type_boolean() }}) as buying_feature_inquiry,
        cast(signals.buying_expansion_content as {{ dbt.type_boolean() }}) as buying_expansion_content,
        cast(signals.buying_new_stakeholders as {{ dbt.type_boolean() }}) as buying_new_stakeholders,
        cast(signals.signal_count as {{ dbt.type_int() }}) as signal_count,
        cast(signals.signal_categories as {{ dbt.type_int() }}) as signal_categories
    from signals
    inner join health
        on health.account_id = signals.account_id

)

select * from final
