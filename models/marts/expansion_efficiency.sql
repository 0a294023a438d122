{#- How well the company expands, per complete calendar quarter of the
    history. An expansion is a won expansion opportunity, dated the day it
    was won (closed, else created).

    - expansion_logo_pct: accounts with an active line in the quarter that
      won an expansion in it (target 15-25%).
    - median_days_to_first_expansion: for the accounts whose first ever
      expansion was won in the quarter, days from their first line's start.
    - multi_expansion_pct: accounts active on the quarter's last day that won
      2+ expansions in the 12 months ending that day.
    - expansion_driven_ndr: the trailing-12-month NRR (the cohort of
      nrr_by_motion) counting as expansion only the cohort's won expansions
      that an episode preceded within the conversion window (or that carry
      its signal id): int_opportunity_matches. Price uplifts are not
      expansions of a play, so they are out.
    - expansion_arr_per_owner: the quarter's expansion ARR over the owners
      of its active accounts (the owner as of as_of).
    - expansion_arr_per_hour: what the episodes that started in the quarter
      won (each opportunity once), over the hours their plays take (seed
      plays, effort_hours); null when no play has hours. -#}
with months as (

    select * from {{ ref('int_history_months') }}

),

lines as (

    select * from {{ ref('int_subscription_lines') }}
    where last_active_date >= start_date

),

movements as (

    select * from {{ ref('int_arr_movements') }}

),

won_matches as (

    select * from {{ ref('int_opportunity_matches') }}
    where is_won

),

episode_outcomes as (

    select * from {{ ref('int_episode_outcomes') }}

),

plays as (

    select * from {{ ref('int_plays') }}

),

owners as (

    select * from {{ ref('int_account_owners') }}

),

quarters as (

    select
        cast({{ dbt.dateadd('month', -2, 'month_start') }} as date) as quarter_start,
        period_end as quarter_end,
        period_start as trailing_start,
        month_start as last_month_start
    from months
    where is_quarter_end

),

signal_led as (

    select distinct opportunity_id from won_matches

),

expansions as (

    select
        opportunities.opportunity_id,
        opportunities.account_id,
        opportunities.amount,
        coalesce(opportunities.closed_on, opportunities.created_on) as won_on,
        signal_led.opportunity_id is not null as is_signal_led
    from {{ ref('stg_opportunities') }} as opportunities
    left join signal_led
        on signal_led.opportunity_id = opportunities.opportunity_id
    where opportunities.opportunity_type = 'expansion'
        and opportunities.is_won

),

first_purchases as (

    select account_id, min(start_date) as first_start_date
    from lines
    group by account_id

),

first_expansions as (

    select account_id, min(won_on) as first_won_on
    from expansions
    group by account_id

),

-- accounts with an active line on some day of the quarter, and whether on its last
active_accounts as (

    select
        quarters.quarter_start,
        lines.account_id,
        max({{ as_int('lines.last_active_date >= quarters.quarter_end') }}) = 1 as is_active_at_end
    from quarters
    inner join lines
        on lines.start_date <= quarters.quarter_end
        and lines.last_active_date >= quarters.quarter_start
    group by quarters.quarter_start, lines.account_id

),

active_at_end as (

    select quarter_start, account_id from active_accounts
    where is_active_at_end

),

logos as (

    select
        active_accounts.quarter_start,
        count(distinct active_accounts.account_id) as active_accounts,
        count(distinct expansions.account_id) as expanded_accounts,
        count(distinct owners.owner_email) as owners,
        coalesce({{ exact_sum('expansions.amount') }}, 0) as expansion_arr
    from active_accounts
    inner join quarters
        on quarters.quarter_start = active_accounts.quarter_start
    left join owners
        on owners.account_id = active_accounts.account_id
    left join expansions
        on expansions.account_id = active_accounts.account_id
        and expansions.won_on >= quarters.quarter_start
        and expansions.won_on <= quarters.quarter_end
    group by active_accounts.quarter_start

),

time_to_first as (

    select
        quarters.quarter_start,
        count(*) as first_expansions,
        {{ median(days_between('first_purchases.first_start_date', 'first_expansions.first_won_on')) }}
            as median_days_to_first_expansion
    from quarters
    inner join first_expansions
        on first_expansions.first_won_on >= quarters.quarter_start
        and first_expansions.first_won_on <= quarters.quarter_end
    inner join first_purchases
        on first_purchases.account_id = first_expansions.account_id
    group by quarters.quarter_start

),

expansions_in_year as (

    select active_at_end.quarter_start, active_at_end.account_id, count(*) as expansions
    from active_at_end
    inner join quarters
        on quarters.quarter_start = active_at_end.quarter_start
    inner join expansions
        on expansions.account_id = active_at_end.account_id
        and expansions.won_on > {{ add_days(-365, 'quarters.quarter_end') }}
        and expansions.won_on <= quarters.quarter_end
    group by active_at_end.quarter_start, active_at_end.account_id

),

multi as (

    select
        active_at_end.quarter_start,
        count(*) as accounts_at_quarter_end,
        sum({{ as_int('expansions_in_year.expansions >= 2') }}) as multi_expansion_accounts
    from active_at_end
    left join expansions_in_year
        on expansions_in_year.quarter_start = active_at_end.quarter_start
        and expansions_in_year.account_id = active_at_end.account_id
    group by active_at_end.quarter_start

),

cohorts as (

    select
        quarters.quarter_start,
        {{ exact_sum('movements.start_arr') }} as starting_arr,
        {{ exact_sum('movements.contraction_arr') }} as contraction_arr,
        {{ exact_sum('movements.churned_arr') }} as churned_arr
    from quarters
    inner join movements
        on movements.month_start = quarters.last_month_start
    group by quarters.quarter_start

),

cohort_accounts as (

    select distinct quarters.quarter_start, movements.account_id
    from quarters
    inner join movements
        on movements.month_start = quarters.last_month_start
    where movements.in_cohort

),

signal_led_in_year as (

    select quarters.quarter_start, {{ exact_sum('expansions.amount') }} as signal_led_arr
    from quarters
    inner join cohort_accounts
        on cohort_accounts.quarter_start = quarters.quarter_start
    inner join expansions
        on expansions.account_id = cohort_accounts.account_id
        and expansions.is_signal_led
        and expansions.won_on >= quarters.trailing_start
        and expansions.won_on <= quarters.quarter_end
    group by quarters.quarter_start

),

episode_wins as (

    select distinct quarters.quarter_start, won_matches.opportunity_id, won_matches.amount
    from quarters
    inner join won_matches
        on won_matches.episode_start >= quarters.quarter_start
        and won_matches.episode_start <= quarters.quarter_end

),

episode_hours as (

    select quarters.quarter_start, {{ exact_sum('plays.effort_hours') }} as play_hours, count(*) as episodes
    from quarters
    inner join episode_outcomes
        on episode_outcomes.episode_start >= quarters.quarter_start
        and episode_outcomes.episode_start <= quarters.quarter_end
    inner join plays
        on plays.play_id = episode_outcomes.play_id
    group by quarters.quarter_start

),

won_by_episodes as (

    select quarter_start, {{ exact_sum('amount') }} as episode_arr
    from episode_wins
    group by quarter_start

),

final as (

    select
        quarters.quarter_start as quarter,
        quarters.quarter_end,
        {{ as_of_date() }} as as_of,
        cast(coalesce(logos.active_accounts, 0) as {{ dbt.type_int() }}) as active_accounts,
        cast(coalesce(logos.expanded_accounts, 0) as {{ dbt.type_int() }}) as expanded_accounts,
        {{ safe_divide('logos.expanded_accounts', 'logos.active_accounts') }} as expansion_logo_pct,
        cast(coalesce(time_to_first.first_expansions, 0) as {{ dbt.type_int() }}) as first_expansions,
        cast(time_to_first.median_days_to_first_expansion as {{ type_double() }})
            as median_days_to_first_expansion,
        cast(coalesce(multi.multi_expansion_accounts, 0) as {{ dbt.type_int() }})
            as multi_expansion_accounts,
        {{ safe_divide('multi.multi_expansion_accounts', 'multi.accounts_at_quarter_end') }}
            as multi_expansion_pct,
        cast(coalesce(logos.expansion_arr, 0) as {{ type_double() }}) as expansion_arr,
        cast(coalesce(signal_led_in_year.signal_led_arr, 0) as {{ type_double() }})
            as signal_led_expansion_arr_12m,
        {{ safe_divide('cohorts.starting_arr + coalesce(signal_led_in_year.signal_led_arr, 0)'
                       ' - cohorts.contraction_arr - cohorts.churned_arr', 'cohorts.starting_arr') }}
            as expansion_driven_ndr,
        cast(coalesce(logos.owners, 0) as {{ dbt.type_int() }}) as owners,
        {{ safe_divide('logos.expansion_arr', 'logos.owners') }} as expansion_arr_per_owner,
        cast(coalesce(episode_hours.episodes, 0) as {{ dbt.type_int() }}) as episodes_started,
        cast(episode_hours.play_hours as {{ type_double() }}) as play_hours,
        cast(coalesce(won_by_episodes.episode_arr, 0) as {{ type_double() }}) as episode_expansion_arr,
        {{ safe_divide('coalesce(won_by_episodes.episode_arr, 0)', 'episode_hours.play_hours') }}
            as expansion_arr_per_hour
    from quarters
    left join logos
        on logos.quarter_start = quarters.quarter_start
    left join time_to_first
        on time_to_first.quarter_start = quarters.quarter_start
    left join multi
        on multi.quarter_start = quarters.quarter_start
    left join cohorts
        on cohorts.quarter_start = quarters.quarter_start
    left join signal_led_in_year
        on signal_led_in_year.quarter_start = quarters.quarter_start
    left join episode_hours
        on episode_hours.quarter_start = quarters.quarter_start
    left join won_by_episodes
        on won_by_episodes.quarter_start = quarters.quarter_start

)

select * from final
