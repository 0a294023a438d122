{{ daily_panel_config() }}
{%- set first_day = incremental_first_day() %}

{#- One row per account and day on which it has any active line: its ARR,
    tenure and renewal distance that day. -#}
with lines as (

    select * from {{ ref('int_subscription_lines') }}

),

days as (

    select date_day from {{ ref('int_day_spine') }}
    where date_day >= {{ first_day }}

),

first_starts as (

    select account_id, min(start_date) as first_start_date
    from lines
    group by account_id

),

active_lines as (

    select lines.account_id, days.date_day, lines.arr, lines.end_date, lines.product
    from lines
    inner join days
        on days.date_day >= lines.start_date
        and days.date_day <= lines.last_active_date

),

per_day as (

    select
        account_id,
        date_day,
        sum(arr) as arr,
        count(distinct product) as active_products,
        -- a future cancellation does not move the renewal date
        min(end_date) as earliest_active_end_date
    from active_lines
    group by account_id, date_day

),

final as (

    select
        per_day.account_id,
        per_day.date_day,
        per_day.arr,
        per_day.active_products,
        first_starts.first_start_date,
        {{ days_between('first_starts.first_start_date', 'per_day.date_day') }} as tenure_days,
        {{ days_between('per_day.date_day', add_days(1, 'per_day.earliest_active_end_date')) }}
            as days_to_renewal
    from per_day
    inner join first_starts
        on first_starts.account_id = per_day.account_id

)

select * from final
