with source as (

    select * from {{ source('raw', 'users') }}

),

renamed as (

    select
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(email as {{ dbt.type_string() }}) as email,
        cast(department as {{ dbt.type_string() }}) as department,
        coalesce(cast(is_executive as {{ dbt.type_boolean() }}), false) as is_executive,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(deactivated_at as {{ dbt.type_timestamp() }}) as deactivated_at
    from source

),

as_of_filtered as (

    select * from renamed
    where {{ to_day('created_at') }} <= {{ as_of_date() }}

)

select * from as_of_filtered
