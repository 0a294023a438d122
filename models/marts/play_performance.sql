{#- One row per play over the history window: how often its episodes
    converted into a won expansion of the play's motion, how fast, for how
    much, the share of the motion's won expansions it announced, and the lift
    over accounts where the play did not fire, with its 95% interval.

    An episode converts when the account wins an expansion opportunity of the
    play's motion created within expansion_conversion_window_days (90) after
    episode_start. Rates count only matured episodes (started at least that
    many days before as_of), so a signal from last week is not a failure; so
    do the median days and the average amount, so all three describe the same
    episodes. Recall is the share of the history's won expansions of the
    play's motion that an episode of the play on the account preceded within
    the window (started on or up to that many days before the opportunity).
    The baseline is the rate at which accounts with an active line on which
    the play never fired won such an expansion, per 90 days of the window.
    expansion_arr_per_hour is what the matured episodes won over the hours
    they took (seed plays, effort_hours per worked episode). -#}
{%- set window_days = var('expansion_conversion_window_days') | int -%}
{%- set d = as_of_date() -%}

with episodes as (

    select * from {{ ref('int_signal_episodes') }}

),

episode_outcomes as (

    select * from {{ ref('int_episode_outcomes') }}

),

plays as (

    select * from {{ ref('int_plays') }}

),

won_expansions as (

    select opportunity_id, account_id, motion, created_on, amount, expansion_signal_id
    from {{ ref('stg_opportunities') }}
    where opportunity_type = 'expansion'
        and is_won

),

active_accounts as (

    select distinct account_id
    from {{ ref('int_account_days') }}
    where date_day >= {{ history_start() }}

),

per_play as (

    select
        play_id,
        count(*) as episodes,
        sum({{ as_int('is_matured') }}) as matured_episodes,
        sum({{ as_int('is_matured and converted') }}) as conversions,
        {{ median('case when is_matured then days_to_conversion end') }}
            as median_days_to_conversion,
        avg(case when is_matured then expansion_amount end) as average_expansion_amount,
        {{ exact_sum('case when is_matured then coalesce(expansion_amount, 0) else 0 end') }}
            as matured_expansion_amount
    from episode_outcomes
    group by play_id

),

fired_accounts as (

    select distinct play_id, account_id from episodes

),

-- the won expansions an episode of the play preceded (one count per opportunity)
announced as (

    select distinct opportunity_id, play_id
    from {{ ref('int_opportunity_matches') }}
    where is_won

),

history_wins as (

    select
        plays.play_id,
        count(*) as motion_wins,
        sum({{ as_int('announced.opportunity_id is not null') }}) as announced_wins
    from plays
    inner join won_expansions
        on won_expansions.motion = plays.motion
        and won_expansions.created_on >= {{ history_start() }}
        and won_expansions.created_on <= {{ d }}
    left join announced
        on announced.opportunity_id = won_expansions.opportunity_id
        and announced.play_id = plays.play_id
    group by plays.play_id

),

baseline as (

    select
        plays.play_id,
        count(distinct active_accounts.account_id) as accounts_without_signal,
        count(won_expansions.account_id) as baseline_wins
    from plays
    cross join active_accounts
    left join fired_accounts
        on fired_accounts.play_id = plays.play_id
        and fired_accounts.account_id = active_accounts.account_id
    left join won_expansions
        on won_expansions.account_id = active_accounts.account_id
        and won_expansions.motion = plays.motion
        and won_expansions.created_on >= {{ history_start() }}
        and won_expansions.created_on <= {{ d }}
    where fired_accounts.account_id is null
    group by plays.play_id

),

final as (

    select
        cast(plays.play_id as {{ dbt.type_string() }}) as play_id,
        cast(plays.motion as {{ dbt.type_string() }}) as motion,
        {{ d }} as as_of,
        cast(coalesce(per_play.episodes, 0) as {{ dbt.type_int() }}) as episodes,
        cast(coalesce(per_play.matured_episodes, 0) as {{ dbt.type_int() }}) as matured_episodes,
        cast(coalesce(per_play.conversions, 0) as {{ dbt.type_int() }}) as conversions,
        {{ safe_divide('per_play.conversions', 'per_play.matured_episodes') }} as conversion_rate,
        cast(per_play.median_days_to_conversion as {{ type_double() }}) as median_days_to_conversion,
        cast(per_play.average_expansion_amount as {{ type_double() }}) as average_expansion_amount,
        {{ safe_divide('baseline.baseline_wins * ' ~ window_days,
                       'baseline.accounts_without_signal * ' ~ var('expansion_history_days')) }}
            as baseline_conversion_rate,
        cast(coalesce(history_wins.motion_wins, 0) as {{ dbt.type_int() }}) as won_expansions,
        {{ safe_divide('history_wins.announced_wins', 'history_wins.motion_wins') }} as recall,
        -- the baseline's trials: one per account per conversion window
        {{ safe_divide('baseline.accounts_without_signal * ' ~ var('expansion_history_days'), window_days) }}
            as baseline_trials,
        coalesce(baseline.baseline_wins, 0) as baseline_wins,
        cast(plays.effort_hours as {{ type_double() }}) as effort_hours,
        {{ safe_divide('per_play.matured_expansion_amount',
                       'per_play.matured_episodes * plays.effort_hours') }} as expansion_arr_per_hour
    from plays
    left join per_play
        on per_play.play_id = plays.play_id
    left join baseline
        on baseline.play_id = plays.play_id
    left join history_wins
        on history_wins.play_id = plays.play_id

)

select
    play_id, motion, as_of, episodes, matured_episodes, conversions, conversion_rate,
    median_days_to_conversion, average_expansion_amount, baseline_conversion_rate,
    {{ safe_divide('conversion_rate', 'baseline_conversion_rate') }} as lift,
    {{ rate_ratio_bound('conversions', 'matured_episodes', 'baseline_wins', 'baseline_trials', -1) }}
        as lift_lower,
    {{ rate_ratio_bound('conversions', 'matured_episodes', 'baseline_wins', 'baseline_trials', 1) }}
        as lift_upper,
    won_expansions,
    recall,
    effort_hours,
    expansion_arr_per_hour
from final
