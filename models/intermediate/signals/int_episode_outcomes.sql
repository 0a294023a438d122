{#- One row per episode of the history: whether it matured (started at least
    expansion_conversion_window_days before as_of), whether and how fast it
    converted (a won expansion opportunity of the play's motion for the
    account created within that window after episode_start), for how much,
    and the compound flag and urgency it last fired with where recorded.

    Attribution: an opportunity that carries an expansion_signal_id (one the
    sync opened, read back from the CRM) belongs to that signal exactly; one
    without is matched by account, motion and window. -#}
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

    select account_id, motion, created_on, amount, expansion_signal_id
    from {{ ref('stg_opportunities') }}
    where opportunity_type = 'expansion'
        and is_won

),

episode_plays as (

    select episodes.*, plays.motion
    from episodes
    inner join plays
        on plays.play_id = episodes.play_id

),

matches as (

    select episode_plays.signal_id, won_expansions.created_on, won_expansions.amount
    from episode_plays
    inner join won_expansions
        on won_expansions.expansion_signal_id = episode_plays.signal_id

    union all

    select episode_plays.signal_id, won_expansions.created_on, won_expansions.amount
    from episode_plays
    inner join won_expansions
        on won_expansions.account_id = episode_plays.account_id
        and won_expansions.motion = episode_plays.motion
        and won_expansions.created_on >= episode_plays.episode_start
        and won_expansions.created_on <= {{ add_days(window_days, 'episode_plays.episode_start') }}
    where won_expansions.expansion_signal_id is null

),

conversions as (

    select
        episode_plays.signal_id,
        episode_plays.account_id,
        episode_plays.play_id,
        episode_plays.product,
        episode_plays.episode_start,
        episode_plays.last_fired_on,
        episode_plays.episode_start <= {{ add_days(-window_days, d) }} as is_matured,
        min({{ days_between('episode_plays.episode_start', 'matches.created_on') }})
            as days_to_conversion,
        sum(matches.amount) as expansion_amount
    from episode_plays
    left join matches
        on matches.signal_id = episode_plays.signal_id
    group by episode_plays.signal_id, episode_plays.account_id, episode_plays.play_id,
        episode_plays.product, episode_plays.episode_start, episode_plays.last_fired_on

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
