with source as (

    select * from {{ source('raw', 'account_outcomes') }}

),

renamed as (

    select
        cast(outcome_id as {{ dbt.type_string() }}) as outcome_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(outcome_name as {{ dbt.type_string() }}) as outcome_name,
        cast(achieved_at as {{ dbt.type_timestamp() }}) as achieved_at,
        {{ to_day('achieved_at') }} as achieved_on
    from source

),

as_of_filtered as (

    select * from renamed
    where achieved_on <= {{ as_of_date() }}

)

select * from as_of_filtered
