{#- An account's ARR on day d is the sum of arr of its lines active on d
    (sources.md: start_date <= d <= end_date and (cancelled_on is null or
    d < cancelled_on)). Recomputed here straight from stg_subscriptions and
    compared with int_account_days on sample days: every first day of a
    month in the panel, and as_of. An account with ARR but no row, or a row
    without ARR, fails too. Returns one row per disagreement. -#}
with sample_days as (

    select date_day
    from {{ ref('int_day_spine') }}
    where date_day = {{ as_of_date() }}
        or extract(day from date_day) = 1

),

subscriptions as (

    select * from {{ ref('stg_subscriptions') }}

),

expected as (

    select
        subscriptions.account_id,
        sample_days.date_day,
        sum(subscriptions.arr) as arr
    from subscriptions
    inner join sample_days
        on subscriptions.start_date <= sample_days.date_day
        and sample_days.date_day <= subscriptions.end_date
        and (subscriptions.cancelled_on is null or sample_days.date_day < subscriptions.cancelled_on)
    group by subscriptions.account_id, sample_days.date_day

),

actual as (

    select account_days.account_id, account_days.date_day, account_days.arr
    from {{ ref('int_account_days') }} as account_days
    inner join sample_days
        on sample_days.date_day = account_days.date_day

),

compared as (

    select
        coalesce(expected.account_id, actual.account_id) as account_id,
        coalesce(expected.date_day, actual.date_day) as date_day,
        expected.arr as expected,
        actual.arr as actual
    from expected
    full outer join actual
        on actual.account_id = expected.account_id
        and actual.date_day = expected.date_day

)

-- a cent of tolerance: the two sums add the same doubles in different orders
select account_id, date_day, expected, actual
from compared
where expected is null
    or actual is null
    or abs(expected - actual) > 0.01
