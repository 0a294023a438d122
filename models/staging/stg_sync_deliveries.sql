{#- What the sync delivered, one row per signal it knows (its ledger,
    expansion_sync.signal_state, once a sync has run; no rows before): whether
    the signal reached Salesforce or its owner in Slack, and the SLA date the
    sync set on first delivery. -#}
{%- set ledger = sync_relation('signal_state') -%}

{% if ledger -%}
with ledger as (

    select * from {{ ledger }}

),

final as (

    select
        cast(signal_id as {{ dbt.type_string() }}) as signal_id,
        cast(sf_signal_id is not null or slack_ts is not null as {{ dbt.type_boolean() }})
            as is_delivered,
        cast(sla_due as date) as sla_due_on
    from ledger

)

select * from final
{%- else -%}
select
    cast(null as {{ dbt.type_string() }}) as signal_id,
    cast(null as {{ dbt.type_boolean() }}) as is_delivered,
    cast(null as date) as sla_due_on
where 1 = 0
{%- endif %}
