with source as (

    select * from {{ source('raw', 'seat_assignments') }}

),

renamed as (

    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(product as {{ dbt.type_string() }}) as product,
        cast(assigned_at as {{ dbt.type_timestamp() }}) as assigned_at,
        cast(unassigned_at as {{ dbt.type_timestamp() }}) as unassigned_at,
        {{ to_day('assigned_at') }} as assigned_on,
        {{ to_day('unassigned_at') }} as unassigned_on
    from source

),

as_of_filtered as (

    select * from renamed
    where assigned_on <= {{ as_of_date() }}

)

select * from as_of_filtered
