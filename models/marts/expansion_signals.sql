{#- One row per signal key firing on as_of: the play, its episode and id,
    urgency, close path, owner and SLA, and the evidence that made it fire.
    This is what the sync writes to Salesforce and Slack. -#}
{%- set d = as_of_date() -%}

with episodes as (

    select * from {{ ref('int_signal_episodes') }}
    where last_fired_on = {{ d }}

),

accounts as (

    select * from {{ ref('stg_accounts') }}

),

account_signals as (

    select * from {{ ref('int_account_signals') }}

),

account_days as (

    select * from {{ ref('int_account_days') }}
    where date_day = {{ d }}

),

limits as (

    select * from {{ ref('int_limit_utilization_daily') }}
    where date_day = {{ d }}

),

last_complete_month as (

    select * from {{ ref('int_consumption_monthly') }}
    where month_end = {{ last_complete_month_end(d) }}

),

plays as (

    select * from {{ ref('plays') }}

),

ownership_rules as (

    select * from {{ ref('ownership_rules') }}

),

evidence as (

    select * from {{ ref('int_signal_evidence') }}

),

keyed as (

    select
        episodes.signal_id,
        episodes.account_id,
        episodes.play_id,
        episodes.product,
        episodes.episode_start,
        plays.motion,
        coalesce(plays.sla_days, {{ var('expansion_default_sla_days') }}) as sla_days,
        account_signals.signal_count,
        account_signals.compound,
        account_days.days_to_renewal,
        limits.limit_level,
        limits.seat_utilization,
        limits.gated_events_30d,
        last_complete_month.consumption_ratio as last_month_consumption_ratio
    from episodes
    inner join plays
        on plays.play_id = episodes.play_id
    inner join account_signals
        on account_signals.account_id = episodes.account_id
    inner join account_days
        on account_days.account_id = episodes.account_id
    left join limits
        on limits.account_id = episodes.account_id
        and limits.product = episodes.product
    left join last_complete_month
        on last_complete_month.account_id = episodes.account_id
        and last_complete_month.product = episodes.product

),

-- the high rules first; a key without a product only knows the compound rule
with_urgency as (

    select
        *,
        case
            when compound then 'high'
            when product <> '' and (
                limit_level = 'intervention'
                or seat_utilization >= {{ var('expansion_urgent_seat_utilization') }}
                or last_month_consumption_ratio >= {{ var('expansion_urgent_consumption_ratio') }}
            ) then 'high'
            when play_id = 'tier_upgrade'
                and limit_level = 'warning'
                and coalesce(gated_events_30d, 0) < {{ var('expansion_low_urgency_max_gated_events') }}
                then 'low'
            else 'medium'
        end as urgency
    from keyed

),

owners as (

    select
        accounts.account_id,
        case ownership_rules.expansion_owner_role
            when 'csm' then accounts.csm_email
            when 'account_manager' then accounts.account_manager_email
            when 'account_executive' then accounts.account_executive_email
        end as rule_owner_email,
        ownership_rules.expansion_owner_role as rule_owner_role,
        accounts.csm_email,
        accounts.account_manager_email,
        accounts.account_executive_email
    from accounts
    left join ownership_rules
        on ownership_rules.segment = accounts.segment

),

resolved_owners as (

    select
        account_id,
        case
            when rule_owner_email is not null then rule_owner_role
            when csm_email is not null then 'csm'
            when account_manager_email is not null then 'account_manager'
            when account_executive_email is not null then 'account_executive'
        end as owner_role,
        coalesce(rule_owner_email, csm_email, account_manager_email, account_executive_email)
            as owner_email
    from owners

),

final as (

    select
        cast(with_urgency.signal_id as {{ dbt.type_string() }}) as signal_id,
        cast(with_urgency.account_id as {{ dbt.type_string() }}) as account_id,
        cast(accounts.crm_account_id as {{ dbt.type_string() }}) as crm_account_id,
        cast(accounts.account_name as {{ dbt.type_string() }}) as account_name,
        cast(with_urgency.play_id as {{ dbt.type_string() }}) as play_id,
        cast(with_urgency.motion as {{ dbt.type_string() }}) as motion,
        cast(with_urgency.product as {{ dbt.type_string() }}) as product,
        cast(with_urgency.episode_start as date) as episode_start,
        {{ d }} as as_of,
        cast(with_urgency.urgency as {{ dbt.type_string() }}) as urgency,
        cast(case
            when with_urgency.days_to_renewal <= {{ var('expansion_renewal_bundle_days') }}
                or with_urgency.urgency = 'low'
                then 'renewal_bundle'
            else 'mid_cycle'
        end as {{ dbt.type_string() }}) as close_path,
        cast(resolved_owners.owner_role as {{ dbt.type_string() }}) as owner_role,
        cast(resolved_owners.owner_email as {{ dbt.type_string() }}) as owner_email,
        {{ add_days('with_urgency.sla_days', 'with_urgency.episode_start') }} as sla_due_on,
        cast(with_urgency.signal_count as {{ dbt.type_int() }}) as signal_count,
        cast(with_urgency.compound as {{ dbt.type_boolean() }}) as compound,
        cast(with_urgency.days_to_renewal as {{ dbt.type_int() }}) as days_to_renewal,
        cast(evidence.evidence as {{ dbt.type_string() }}) as evidence
    from with_urgency
    inner join accounts
        on accounts.account_id = with_urgency.account_id
    inner join resolved_owners
        on resolved_owners.account_id = with_urgency.account_id
    left join evidence
        on evidence.account_id = with_urgency.account_id
        and evidence.play_id = with_urgency.play_id
        and evidence.product = with_urgency.product

)

select * from final
