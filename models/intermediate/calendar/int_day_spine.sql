{#- Every day the daily models evaluate: the trigger history window plus the
    lookback its 30- and 60-day windows need on their first day. -#}

with days as (

    {{ dbt.date_spine(
        'day',
        panel_start(),
        add_days(1, as_of_date())
    ) }}

),

final as (

    select
        cast(date_day as date) as date_day,
        cast(date_day as date) >= {{ history_start() }} as is_in_history
    from days

)

select * from final
