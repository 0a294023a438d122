{#- Every day the daily models evaluate: the trigger history window plus the
    expansion_panel_lookback_days (60) that the windows read on its first day
    need. -#}

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
