{#- One row per episode of the history: whether it matured (started at least
    expansion_conversion_window_days before as_of), whether and how fast it
    converted (a won expansion opportunity of the play's motion for the
    account created within that window after episode_start), for how much,
    and the compound flag and urgency it last fired with where recorded. -#}
{%- set window_days = var('expansion_conversion_window_days') | int -%}
{%- set d = as_of_date() -%}

with episodes as (

    select * from {{ ref('int_signal_episodes') }}

),

plays as (

    select * from {{ ref('int_plays') }}

),

context as (

    select * from {{ ref('int_signal_context') }}

),

won_expansions as (

    select account_id, motion, created_on, amount
    from {{ ref('stg_opportunities') }}
    where opportunity_type = 'expansion'
        and is_won

),

conversions as (

    select
        episodes.signal_id,
        episodes.account_id,
        episodes.play_id,
        episodes.product,
        episodes.episode_start,
        episodes.last_fired_on,
        episodes.episode_start <= {{ add_days(-window_days, d) }} as is_matured,
        min({{ days_between('episodes.episode_start', 'won_expansions.created_on') }})
            as days_to_conversion,
        sum(won_expansions.amount) as expansion_amount
    from episodes
    inner join plays
        on plays.play_id = episodes.play_id
    left join won_expansions
        on won_expansions.account_id = episodes.account_id
        and won_expansions.motion = plays.motion
        and won_expansions.created_on >= episodes.episode_start
        and won_expansions.created_on <= {{ add_days(window_days, 'episodes.episode_start') }}
    group by episodes.signal_id, episodes.account_id, episodes.play_id, episodes.product,
        episodes.episode_start, episodes.last_fired_on

),

final as (

    select
        conversions.signal_id,
        conversions.account_id,
        conversions.play_id,
        conversions.product,
        conversions.episode_start,
        conversions.last_fired_on,
        conversions.is_matured,
        conversions.days_to_conversion is not null as converted,
        conversions.days_to_conversion,
        conversions.expansion_amount,
        context.compound,
        context.urgency
    from conversions
    left join context
        on context.signal_id = conversions.signal_id

)

select * from final
