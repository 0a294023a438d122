{#- One row per play over the history window: how often its episodes
    converted into a won expansion of the play's motion, how fast, for how
    much, and the lift over accounts where the play did not fire.

    An episode converts when the account wins an expansion opportunity of the
    play's motion created within expansion_conversion_window_days (90) after
    episode_start. Rates count only matured episodes (started at least that
    many days before as_of), so a signal from last week is not a failure.
    The baseline is the rate at which accounts with an active line on which
    the play never fired won such an expansion, per 90 days of the window. -#}
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

    select account_id, motion, created_on, amount
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
        {{ median('days_to_conversion') }} as median_days_to_conversion,
        avg(expansion_amount) as average_expansion_amount
    from episode_outcomes
    group by play_id

),

fired_accounts as (

    select distinct play_id, account_id from episodes

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
            as baseline_conversion_rate
    from plays
    left join per_play
        on per_play.play_id = plays.play_id
    left join baseline
        on baseline.play_id = plays.play_id

)

select
    *,
    {{ safe_divide('conversion_rate', 'baseline_conversion_rate') }} as lift
from final
