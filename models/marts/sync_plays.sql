{#- One row per play of the catalog, as the sync needs it: what to do, the
    SLA (resolved in int_plays, as in expansion_signals),
    the collateral, whether it opens an Opportunity, and what to say (the
    talk track; null when the seed has none). -#}

with plays as (

    select * from {{ ref('int_plays') }}

),

final as (

    select
        cast(play_id as {{ dbt.type_string() }}) as play_id,
        cast(motion as {{ dbt.type_string() }}) as motion,
        cast(description as {{ dbt.type_string() }}) as description,
        cast(sla_days as {{ dbt.type_int() }}) as sla_days,
        cast(collateral as {{ dbt.type_string() }}) as collateral,
        cast(opens_opportunity as {{ dbt.type_boolean() }}) as opens_opportunity,
        cast(talk_track as {{ dbt.type_string() }}) as talk_track
    from plays

)

select * from final
