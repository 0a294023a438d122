with source as (

    select * from {{ source('raw', 'accounts') }}

),

renamed as (

    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(account_name as {{ dbt.type_string() }}) as account_name,
        cast(parent_account_id as {{ dbt.type_string() }}) as parent_account_id,
        cast(crm_account_id as {{ dbt.type_string() }}) as crm_account_id,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(region as {{ dbt.type_string() }}) as region,
        cast(csm_email as {{ dbt.type_string() }}) as csm_email,
        cast(account_manager_email as {{ dbt.type_string() }}) as account_manager_email,
        cast(account_executive_email as {{ dbt.type_string() }}) as account_executive_email,
        cast(fiscal_year_start_month as {{ dbt.type_int() }}) as fiscal_year_start_month,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at
    from source

)

-- created_at is when the CRM record was made, not an event: an account is
-- kept whatever it says (its contract lines decide when it is active)
select * from renamed
