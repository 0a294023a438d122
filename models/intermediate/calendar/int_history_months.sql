{#- Every complete calendar month whose last day is in the history window,
    with the trailing 12 months ending with it (period_start to period_end)
    and whether it closes a calendar quarter. -#}
with month_ends as (

    select date_day as period_end
    from {{ ref('int_day_spine') }}
    where is_in_history
        and extract(day from {{ add_days(1, 'date_day') }}) = 1

),

final as (

    select
        cast({{ dbt.date_trunc('month', 'period_end') }} as date) as month_start,
        cast({{ dbt.dateadd('month', -11, dbt.date_trunc('month', 'period_end')) }} as date)
            as period_start,
        period_end,
        extract(month from period_end) in (3, 6, 9, 12) as is_quarter_end
    from month_ends

)

select * from final
