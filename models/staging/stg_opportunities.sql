{#- CRM opportunities as they stood on as_of: the raw table a CRM pipeline
    loads, and the Opportunities the sync opened as it read them back
    (expansion_sync.opportunity_readback, once a sync has run). The read-back
    is the fresher copy of the same record, so a raw row for an Opportunity
    it holds (same id or same signal) is left out. -#}
{%- set readback = sync_relation('opportunity_readback') -%}

with source as (

    select * from {{ source('raw', 'opportunities') }}

),

{% if readback -%}
readback as (

    select * from {{ readback }}

),

{% endif -%}
crm as (

    select
        opportunity_id, account_id, opportunity_type, motion, amount,
        created_at, closed_at, is_won, expansion_signal_id
    from source
    {%- if readback %}
    where not exists (
        select 1
        from readback
        where readback.opportunity_id = source.opportunity_id
            or readback.expansion_signal_id = source.expansion_signal_id
    )
    {%- endif %}

),

{% if readback -%}
opened as (

    select
        opportunity_id,
        account_id,
        'expansion' as opportunity_type,
        motion,
        amount,
        created_at,
        case when is_closed then cast(close_date as {{ dbt.type_timestamp() }}) end as closed_at,
        case when is_closed then is_won end as is_won,
        expansion_signal_id
    from readback

),

{% endif -%}
unioned as (

    select * from crm
    {%- if readback %}
    union all
    select * from opened
    {%- endif %}

),

renamed as (

    select
        cast(opportunity_id as {{ dbt.type_string() }}) as opportunity_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(opportunity_type as {{ dbt.type_string() }}) as opportunity_type,
        cast(motion as {{ dbt.type_string() }}) as motion,
        cast(amount as {{ type_double() }}) as amount,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,
        {{ to_day('created_at') }} as created_on,
        {{ to_day('closed_at') }} as closed_on,
        cast(is_won as {{ dbt.type_boolean() }}) as is_won,
        cast(expansion_signal_id as {{ dbt.type_string() }}) as expansion_signal_id
    from unioned

),

-- an opportunity created after the evaluation date does not exist yet, and
-- one closed after it was still open then
as_of_filtered as (

    select
        opportunity_id, account_id, opportunity_type, motion, amount, created_at, created_on,
        case when closed_on <= {{ as_of_date() }} then closed_at end as closed_at,
        case when closed_on <= {{ as_of_date() }} then closed_on end as closed_on,
        case when closed_on <= {{ as_of_date() }} then is_won end as is_won,
        expansion_signal_id
    from renamed
    where created_on <= {{ as_of_date() }}

)

select * from as_of_filtered
