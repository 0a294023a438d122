{#- The outcome signal categories of triggers.md, per account with an active
    line on as_of: an outcome achieved lately, a feature gap (tier_upgrade's
    condition) on some product, and a healthy score. -#}
{%- set d = as_of_date() -%}

with accounts as (

    select * from {{ ref('int_as_of_accounts') }}

),

account_products as (

    select * from {{ ref('int_as_of_account_products') }}

),

outcomes as (

    select * from {{ ref('stg_account_outcomes') }}

),

recent_outcomes as (

    select distinct account_id
    from outcomes
    where achieved_on >= {{ add_days(1 - var('expansion_outcome_recent_days'), d) }}

),

feature_gaps as (

    select account_id
    from account_products
    where has_feature_gap
    group by account_id

),

final as (

    select
        accounts.account_id,
        recent_outcomes.account_id is not null as outcome_achieved,
        feature_gaps.account_id is not null as outcome_feature_gap,
        coalesce(accounts.health_score >= {{ var('expansion_healthy_score') }}, false) as outcome_healthy
    from accounts
    left join recent_outcomes on recent_outcomes.account_id = accounts.account_id
    left join feature_gaps on feature_gaps.account_id = accounts.account_id

)

select * from final
