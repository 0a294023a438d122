with source as (

    select * from {{ source('raw', 'subscriptions') }}

),

renamed as (

    select
        cast(subscription_id as {{ dbt.type_string() }}) as subscription_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(product as {{ dbt.type_string() }}) as product,
        cast(plan_tier as {{ dbt.type_string() }}) as plan_tier,
        cast(billing_model as {{ dbt.type_string() }}) as billing_model,
        cast(seats_purchased as {{ dbt.type_int() }}) as seats_purchased,
        cast(committed_units_per_month as {{ type_double() }}) as committed_units_per_month,
        cast(arr as {{ type_double() }}) as arr,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(cancelled_on as date) as cancelled_on
    from source

),

-- a line signed after the evaluation date does not exist yet
as_of_filtered as (

    select * from renamed
    where start_date <= {{ as_of_date() }}

)

select * from as_of_filtered
