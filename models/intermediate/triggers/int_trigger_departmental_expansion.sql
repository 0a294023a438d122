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

new_departments as (

    select
        new_department.account_id,
        quarters.date_day,
        quarters.quarter_start,
        new_department.department
    from quarters
    inner join departments as new_department
        on new_department.first_usage_date >= quarters.quarter_start
        and new_department.first_usage_date <= quarters.date_day

),

final as (

    select
        new_departments.account_id,
        'departmental_expansion' as play_id,
        '' as product,
        new_departments.date_day,
        count(*) as new_departments,
        {{ dbt.listagg('new_departments.department', "', '", 'order by new_departments.department') }}
            as department_names
    from new_departments
    where exists (
        select 1
        from departments as earlier_department
        where earlier_department.account_id = new_departments.account_id
            and earlier_department.first_usage_date < new_departments.quarter_start
    )
    group by new_departments.account_id, new_departments.date_day

)

select * from final
