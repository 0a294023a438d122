{#- Signal volume per week of the history (weeks start on Monday; on
    BigQuery, Sunday): the keys that fired on some day of the week, the
    episodes that started in it (new alerts), split by their urgency
    (int_episode_urgency: as a build recorded it, else as the daily panels
    replay it without the compound rule), and the accounts they were on. -#}
with days as (

    select date_day from {{ ref('int_day_spine') }}
    where is_in_history

),

trigger_days as (

    select * from {{ ref('int_trigger_days') }}

),

starts as (

    select * from {{ ref('int_episode_urgency') }}

),

weeks as (

    select distinct cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start
    from days

),

firing as (

    select
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
        count(distinct {{ dbt.concat(['account_id', "'|'", 'play_id', "'|'", 'product']) }})
            as firing_signals
    from trigger_days
    group by 1

),

new_signals as (

    select
        cast({{ dbt.date_trunc('week', 'episode_start') }} as date) as week_start,
        count(*) as new_signals,
        sum({{ as_int("urgency = 'high'") }}) as new_high,
        sum({{ as_int("urgency = 'medium'") }}) as new_medium,
        sum({{ as_int("urgency = 'low'") }}) as new_low,
        count(distinct account_id) as new_signal_accounts
    from starts
    group by 1

),

final as (

    select
        weeks.week_start,
        {{ as_of_date() }} as as_of,
        cast(coalesce(firing.firing_signals, 0) as {{ dbt.type_int() }}) as firing_signals,
        cast(coalesce(new_signals.new_signals, 0) as {{ dbt.type_int() }}) as new_signals,
        cast(coalesce(new_signals.new_high, 0) as {{ dbt.type_int() }}) as new_high,
        cast(coalesce(new_signals.new_medium, 0) as {{ dbt.type_int() }}) as new_medium,
        cast(coalesce(new_signals.new_low, 0) as {{ dbt.type_int() }}) as new_low,
        cast(coalesce(new_signals.new_signal_accounts, 0) as {{ dbt.type_int() }})
            as new_signal_accounts
    from weeks
    left join firing
        on firing.week_start = weeks.week_start
    left join new_signals
        on new_signals.week_start = weeks.week_start

)

select * from final
