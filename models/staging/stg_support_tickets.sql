with source as (

    select * from {{ source('raw', 'support_tickets') }}

),

renamed as (

    select
        cast(ticket_id as {{ dbt.type_string() }}) as ticket_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(priority as {{ dbt.type_string() }}) as priority,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(resolved_at as {{ dbt.type_timestamp() }}) as resolved_at,
        {{ to_day('created_at') }} as created_on,
        {{ to_day('resolved_at') }} as resolved_on
    from source

),

as_of_filtered as (

    select * from renamed
    where created_on <= {{ as_of_date() }}

)

select * from as_of_filtered
