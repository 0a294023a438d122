with source as (

    select * from {{ source('raw', 'crm_activities') }}

),

renamed as (

    select
        cast(activity_id as {{ dbt.type_string() }}) as activity_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(activity_type as {{ dbt.type_string() }}) as activity_type,
        cast(contact_email as {{ dbt.type_string() }}) as contact_email,
        coalesce(cast(contact_is_executive as {{ dbt.type_boolean() }}), false) as contact_is_executive,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        {{ to_day('occurred_at') }} as occurred_on
    from source

),

as_of_filtered as (

    select * from renamed
    where occurred_on <= {{ as_of_date() }}

)

select * from as_of_filtered
