{#- The attribution rule, in one place: which expansion opportunity (won,
    lost or open) belongs to which episode. An opportunity that carries an
    expansion_signal_id (one the sync opened, read back from the CRM) belongs
    to that signal exactly, whatever its account, motion or date; one without
    it belongs to every episode of a play of its motion on its account that
    started on or up to expansion_conversion_window_days (90) days before it
    was created. One row per (opportunity, episode) match. -#}
{%- set window_days = var('expansion_conversion_window_days') | int -%}

with episodes as (

    select * from {{ ref('int_signal_episodes') }}

),

plays as (

    select * from {{ ref('int_plays') }}

),

expansion_opportunities as (

    select
        opportunity_id, account_id, motion, created_on, closed_on, amount, expansion_signal_id,
        coalesce(is_won, false) as is_won
    from {{ ref('stg_opportunities') }}
    where opportunity_type = 'expansion'

),

episode_plays as (

    select
        episodes.signal_id,
        episodes.account_id,
        episodes.play_id,
        episodes.product,
        episodes.episode_start,
        episodes.last_fired_on,
        plays.motion
    from episodes
    inner join plays
        on plays.play_id = episodes.play_id

),

-- the signal's own opportunity
by_signal_id as (

    select expansion_opportunities.opportunity_id, episode_plays.signal_id, true as is_exact
    from episode_plays
    inner join expansion_opportunities
        on expansion_opportunities.expansion_signal_id = episode_plays.signal_id

),

-- one without a signal id: the account's, of the play's motion, within the window
by_window as (

    select expansion_opportunities.opportunity_id, episode_plays.signal_id, false as is_exact
    from episode_plays
    inner join expansion_opportunities
        on expansion_opportunities.account_id = episode_plays.account_id
        and expansion_opportunities.motion = episode_plays.motion
        and expansion_opportunities.created_on >= episode_plays.episode_start
        and expansion_opportunities.created_on <= {{ add_days(window_days, 'episode_plays.episode_start') }}
    where expansion_opportunities.expansion_signal_id is null

),

matches as (

    select * from by_signal_id
    union all
    select * from by_window

),

final as (

    select
        matches.opportunity_id,
        matches.signal_id,
        episode_plays.play_id,
        episode_plays.account_id,
        episode_plays.product,
        episode_plays.last_fired_on,
        episode_plays.motion,
        episode_plays.episode_start,
        expansion_opportunities.created_on,
        expansion_opportunities.closed_on,
        expansion_opportunities.amount,
        expansion_opportunities.is_won,
        matches.is_exact,
        {{ days_between('episode_plays.episode_start', 'expansion_opportunities.created_on') }}
            as days_to_conversion
    from matches
    inner join episode_plays
        on episode_plays.signal_id = matches.signal_id
    inner join expansion_opportunities
        on expansion_opportunities.opportunity_id = matches.opportunity_id

)

select * from final
