{#- One row per account with an active line on as_of: the health score, its
    three components, the 14 signal categories and their count. -#}
with signals as (

    select * from {{ ref('int_account_signals') }}

),

health as (

    select * from {{ ref('int_health_daily') }}
    where date_day = {{ as_of_date() }}

),

final as (

    select
        signals.account_id,
        {{ as_of_date() }} as as_of,
        health.health_score,
        health.usage_intensity_score,
        health.breadth_score,
        health.sentiment_score,
        signals.usage_approaching_limits,
        signals.usage_adoption_velocity,
        signals.usage_power_users,
        signals.usage_multi_department,
        signals.outcome_achieved,
        signals.outcome_feature_gap,
        signals.outcome_healthy,
        signals.org_budget_cycle,
        signals.org_new_department,
        signals.org_exec_engagement_rising,
        signals.buying_pricing_interest,
        signals.buying_feature_inquiry,
        signals.buying_expansion_content,
        signals.buying_new_stakeholders,
        signals.signal_count
    from signals
    inner join health
        on health.account_id = signals.account_id

)

select * from final
