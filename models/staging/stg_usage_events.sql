{#- A view: the 10^8-row table is read once, by int_usage_daily, which
    deduplicates event_id on the days it processes (see its YAML). -#}
with source as (

    select * from {{ source('raw', 'usage_events') }}

),

renamed as (

    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(product as {{ dbt.type_string() }}) as product,
        cast(feature as {{ dbt.type_string() }}) as feature,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        {{ to_day('occurred_at') }} as occurred_on,
        cast(quantity as {{ type_double() }}) as quantity
    from source

),

as_of_filtered as (

    select * from renamed
    where occurred_on <= {{ as_of_date() }}

)

select * from as_of_filtered
