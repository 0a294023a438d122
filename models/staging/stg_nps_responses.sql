with source as (

    select * from {{ source('raw', 'nps_responses') }}

),

renamed as (

    select
        cast(response_id as {{ dbt.type_string() }}) as response_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(score as {{ dbt.type_int() }}) as score,
        cast(responded_at as {{ dbt.type_timestamp() }}) as responded_at,
        {{ to_day('responded_at') }} as responded_on
    from source

),

as_of_filtered as (

    select * from renamed
    where responded_on <= {{ as_of_date() }}

)

select * from as_of_filtered
