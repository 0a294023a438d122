{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- seat_expansion fires for (account, product) with seat lines when assigned
    seats / seats purchased >= 0.85 on every one of the 14 days ending d. -#}
{%- set sustained_days = var('expansion_seat_sustained_days') | int -%}

with limits as (

    select * from {{ ref('int_limit_utilization_daily') }}
    where has_seat_line
        and date_day >= {{ add_days(1 - sustained_days, first_day) }}

),

-- a day with no seats purchased, or no active line, breaks the run
windows as (

    select
        account_id,
        product,
        date_day,
        sum({{ as_int('seats_purchased > 0 and seat_utilization >= ' ~ var('expansion_seat_utilization_threshold')) }}) over (
            partition by account_id, product order by date_day
            rows between {{ sustained_days - 1 }} preceding and current row
        ) as qualifying_days,
        min(date_day) over (
            partition by account_id, product order by date_day
            rows between {{ sustained_days - 1 }} preceding and current row
        ) as window_first_day
    from limits

),

final as (

    select account_id, 'seat_expansion' as play_id, product, date_day
    from windows
    where date_day >= {{ first_day }}
        and qualifying_days = {{ sustained_days }}
        and window_first_day = {{ add_days(1 - sustained_days, 'date_day') }}

)

select * from final
