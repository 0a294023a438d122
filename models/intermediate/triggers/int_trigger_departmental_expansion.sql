{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- departmental_expansion fires on d when a department's first usage falls
    in d's calendar quarter (on or before d) and another department's first
    usage is before that quarter. -#}
with days as (

    select date_day from {{ ref('int_day_spine') }}
    where date_day >= {{ first_day }}

),

departments as (

    select * from {{ ref('int_department_first_usage') }}

),

quarters as (

    select
        date_day,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start
    from days

),

final as (

    select distinct
        new_department.account_id,
        'departmental_expansion' as play_id,
        '' as product,
        quarters.date_day
    from quarters
    inner join departments as new_department
        on new_department.first_usage_date >= quarters.quarter_start
        and new_department.first_usage_date <= quarters.date_day
    inner join departments as earlier_department
        on earlier_department.account_id = new_department.account_id
        and earlier_department.first_usage_date < quarters.quarter_start

)

select * from final
