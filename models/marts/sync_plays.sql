{#- One row per play of the catalog, as the sync needs it: what to do, the
    SLA (the default when the seed leaves it empty, as in expansion_signals),
    the collateral, and whether it opens an Opportunity. -#}

with plays as (

    select * from {{ ref('plays') }}

),

final as (

    select
        cast(play_id as {{ dbt.type_string() }}) as play_id,
        cast(motion as {{ dbt.type_string() }}) as motion,
        cast(description as {{ dbt.type_string() }}) as description,
        cast(coalesce(sla_days, {{ var('expansion_default_sla_days') }}) as {{ dbt.type_int() }})
            as sla_days,
        cast(collateral as {{ dbt.type_string() }}) as collateral,
        cast(opens_opportunity as {{ dbt.type_boolean() }}) as opens_opportunity
    from plays

)

select * from final
