{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- bu_rollout fires for an account with an active line whose first line
    started 90+ days before d, whose health score on d is 70+, and whose
    family has another account without an active line on d. -#}
with account_days as (

    select * from {{ ref('int_account_days') }}
    where date_day >= {{ first_day }}

),

health as (

    select * from {{ ref('int_health_daily') }}
    where date_day >= {{ first_day }}

),

families as (

    select * from {{ ref('int_account_families') }}

),

family_sizes as (

    select account_id, count(*) as family_members
    from families
    group by account_id

),

-- active family members per day, only for accounts that have a family
active_members as (

    select
        families.account_id,
        member_days.date_day,
        count(*) as active_family_members
    from families
    inner join family_sizes
        on family_sizes.account_id = families.account_id
        and family_sizes.family_members > 1
    inner join account_days as member_days
        on member_days.account_id = families.member_account_id
    group by families.account_id, member_days.date_day

),

final as (

    select
        account_days.account_id,
        'bu_rollout' as play_id,
        '' as product,
        account_days.date_day,
        health.health_score,
        account_days.tenure_days,
        family_sizes.family_members - active_members.active_family_members
            as business_units_without_contract
    from account_days
    inner join health
        on health.account_id = account_days.account_id
        and health.date_day = account_days.date_day
    inner join family_sizes
        on family_sizes.account_id = account_days.account_id
    inner join active_members
        on active_members.account_id = account_days.account_id
        and active_members.date_day = account_days.date_day
    where account_days.tenure_days >= {{ var('expansion_bu_min_tenure_days') }}
        and health.health_score >= {{ var('expansion_bu_min_health') }}
        and active_members.active_family_members < family_sizes.family_members

)

select * from final
