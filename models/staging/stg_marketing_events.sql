with source as (

    select * from {{ source('raw', 'marketing_events') }}

),

renamed as (

    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        {{ to_day('occurred_at') }} as occurred_on
    from source

),

as_of_filtered as (

    select * from renamed
    where occurred_on <= {{ as_of_date() }}

),

-- trackers deliver at least once: a repeated event_id counts once, the earliest
ranked as (

    select
        *,
        row_number() over (partition by event_id order by occurred_at) as delivery_rank
    from as_of_filtered

),

deduplicated as (

    select event_id, account_id, user_id, event_type, occurred_at, occurred_on
    from ranked
    where delivery_rank = 1

)

select * from deduplicated
