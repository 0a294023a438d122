{#- One row per episode of the history: whether it matured (started at least
    expansion_conversion_window_days before as_of), whether and how fast it
    converted (a won expansion opportunity of the play's motion for the
    account created within that window after episode_start), for how much,
    and the compound flag and urgency it last fired with where recorded.

    Attribution is int_opportunity_matches': the signal's own Opportunity
    exactly, else by account, motion and window. -#}
{%- set window_days = var('expansion_conversion_window_days') | int -%}
{%- set d = as_of_date() -%}

with episodes as (

    select * from {{ ref('int_signal_episodes') }}

),

context as (

    select * from {{ ref('int_signal_context') }}

),

matches as (

    select * from {{ ref('int_opportunity_matches') }}
    where is_won

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
        min(matches.days_to_conversion) as days_to_conversion,
        sum(matches.amount) as expansion_amount
    from episodes
    left join matches
        on matches.signal_id = episodes.signal_id
    group by episodes.signal_id, episodes.account_id, episodes.play_id,
        episodes.product, episodes.episode_start, episodes.last_fired_on

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
