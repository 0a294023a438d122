{#- The ARR bridge: starting ARR + new lines - ended lines = ending ARR, per
    account, between consecutive sample days (every first day of a month in
    the panel, and as_of). ARR is read from int_account_days (no row = 0);
    the movements come straight from stg_subscriptions with the contract's
    definition of an active line, whose active days run from start_date to
    its last active day, least(end_date, cancelled_on - 1):

      new    lines whose first active day falls in (previous day, day]
      ended  lines whose last active day falls in [previous day, day - 1]

    A line that starts and ends between the two days is in both and nets to
    0; a line cancelled on or before its start_date is never active and is
    in neither. Returns one row per account and day that does not balance. -#}
with sample_days as (

    select date_day
    from {{ ref('int_day_spine') }}
    where date_day = {{ as_of_date() }}
        or extract(day from date_day) = 1

),

periods as (

    select previous_day, date_day
    from (
        select
            lag(date_day) over (order by date_day) as previous_day,
            date_day
        from sample_days
    ) as ordered
    where previous_day is not null

),

lines as (

    select
        account_id,
        arr,
        start_date,
        case
            when cancelled_on is not null and cancelled_on <= end_date
                then {{ add_days(-1, 'cancelled_on') }}
            else end_date
        end as last_active_day
    from {{ ref('stg_subscriptions') }}

),

active_lines as (

    select * from lines
    where last_active_day >= start_date

),

new_lines as (

    select active_lines.account_id, periods.date_day, sum(active_lines.arr) as new_arr
    from active_lines
    inner join periods
        on active_lines.start_date > periods.previous_day
        and active_lines.start_date <= periods.date_day
    group by active_lines.account_id, periods.date_day

),

ended_lines as (

    select active_lines.account_id, periods.date_day, sum(active_lines.arr) as ended_arr
    from active_lines
    inner join periods
        on active_lines.last_active_day >= periods.previous_day
        and active_lines.last_active_day < periods.date_day
    group by active_lines.account_id, periods.date_day

),

account_days as (

    select account_id, date_day, arr
    from {{ ref('int_account_days') }}
    where date_day in (select date_day from sample_days)

),

starting as (

    select account_days.account_id, periods.date_day, account_days.arr as starting_arr
    from account_days
    inner join periods
        on periods.previous_day = account_days.date_day

),

ending as (

    select account_days.account_id, account_days.date_day, account_days.arr as ending_arr
    from account_days
    inner join periods
        on periods.date_day = account_days.date_day

),

-- union all, then distinct: a bare UNION does not parse on BigQuery
keys as (

    select distinct account_id, date_day
    from (
        select account_id, date_day from starting
        union all
        select account_id, date_day from ending
        union all
        select account_id, date_day from new_lines
        union all
        select account_id, date_day from ended_lines
    ) as all_keys

),

bridge as (

    select
        keys.account_id,
        periods.previous_day,
        keys.date_day,
        coalesce(starting.starting_arr, 0) as starting_arr,
        coalesce(new_lines.new_arr, 0) as new_arr,
        coalesce(ended_lines.ended_arr, 0) as ended_arr,
        coalesce(ending.ending_arr, 0) as ending_arr
    from keys
    inner join periods
        on periods.date_day = keys.date_day
    left join starting
        on starting.account_id = keys.account_id and starting.date_day = keys.date_day
    left join ending
        on ending.account_id = keys.account_id and ending.date_day = keys.date_day
    left join new_lines
        on new_lines.account_id = keys.account_id and new_lines.date_day = keys.date_day
    left join ended_lines
        on ended_lines.account_id = keys.account_id and ended_lines.date_day = keys.date_day

)

-- a cent of tolerance: the sums add the same doubles in different orders
select
    account_id,
    previous_day,
    date_day,
    starting_arr,
    new_arr,
    ended_arr,
    ending_arr,
    starting_arr + new_arr - ended_arr as expected_ending_arr
from bridge
where abs(starting_arr + new_arr - ended_arr - ending_arr) > 0.01
