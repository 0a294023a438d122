{#- One row per play over the history window: how its episodes went from
    fired to alerted (the sync delivered them; null before the sync has run)
    to an opportunity (an expansion opportunity of the play's motion, won,
    lost or open, that belongs to the episode: int_opportunity_matches) to
    won; and SLA compliance: of the episodes whose SLA date has passed (the
    date the sync set, else episode_start + the play's sla_days), counting
    only alerted ones once the sync has run, the share whose account had a
    CRM activity (a meeting, call or email) from episode_start to that date:
    the owner reached out in time. -#}
{%- set ledger = sync_relation('signal_state') -%}
{%- set d = as_of_date() -%}

with episode_outcomes as (

    select * from {{ ref('int_episode_outcomes') }}

),

plays as (

    select * from {{ ref('int_plays') }}

),

deliveries as (

    select * from {{ ref('stg_sync_deliveries') }}

),

matched as (

    select distinct signal_id from {{ ref('int_opportunity_matches') }}

),

activities as (

    select account_id, occurred_on from {{ ref('stg_crm_activities') }}

),

episodes as (

    select
        episode_outcomes.signal_id,
        episode_outcomes.account_id,
        episode_outcomes.play_id,
        episode_outcomes.episode_start,
        episode_outcomes.converted,
        coalesce(deliveries.is_delivered, false) as is_delivered,
        matched.signal_id is not null as has_opportunity,
        coalesce(deliveries.sla_due_on, {{ add_days('plays.sla_days', 'episode_outcomes.episode_start') }})
            as sla_due_on
    from episode_outcomes
    inner join plays
        on plays.play_id = episode_outcomes.play_id
    left join deliveries
        on deliveries.signal_id = episode_outcomes.signal_id
    left join matched
        on matched.signal_id = episode_outcomes.signal_id

),

tracked as (

    select
        episodes.signal_id,
        episodes.play_id,
        exists (
            select 1
            from activities
            where activities.account_id = episodes.account_id
                and activities.occurred_on >= episodes.episode_start
                and activities.occurred_on <= episodes.sla_due_on
        ) as is_met
    from episodes
    where episodes.sla_due_on <= {{ d }}
        {%- if ledger %}
        and episodes.is_delivered
        {%- endif %}

),

per_play as (

    select
        play_id,
        count(*) as fired,
        sum({{ as_int('is_delivered') }}) as alerted,
        sum({{ as_int('has_opportunity') }}) as opportunities,
        sum({{ as_int('converted') }}) as won
    from episodes
    group by play_id

),

sla as (

    select play_id, count(*) as sla_tracked, sum({{ as_int('is_met') }}) as sla_met
    from tracked
    group by play_id

),

final as (

    select
        cast(plays.play_id as {{ dbt.type_string() }}) as play_id,
        cast(plays.motion as {{ dbt.type_string() }}) as motion,
        {{ d }} as as_of,
        cast(coalesce(per_play.fired, 0) as {{ dbt.type_int() }}) as fired,
        {% if ledger -%}
        cast(coalesce(per_play.alerted, 0) as {{ dbt.type_int() }})
        {%- else -%}
        cast(null as {{ dbt.type_int() }})
        {%- endif %} as alerted,
        cast(coalesce(per_play.opportunities, 0) as {{ dbt.type_int() }}) as opportunities,
        cast(coalesce(per_play.won, 0) as {{ dbt.type_int() }}) as won,
        cast(coalesce(sla.sla_tracked, 0) as {{ dbt.type_int() }}) as sla_tracked,
        cast(coalesce(sla.sla_met, 0) as {{ dbt.type_int() }}) as sla_met,
        {{ safe_divide('sla.sla_met', 'sla.sla_tracked') }} as sla_compliance
    from plays
    left join per_play
        on per_play.play_id = plays.play_id
    left join sla
        on sla.play_id = plays.play_id

)

select * from final
