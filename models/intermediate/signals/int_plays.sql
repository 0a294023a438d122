{#- The play catalog (seed plays) with each play's SLA resolved: the seed's
    sla_days, or the default (var expansion_default_sla_days) when it leaves
    it empty. The one place that default is applied. The optional
    effort_hours (the hours one worked episode takes) is null when the seed
    has no such column. -#}

with plays as (

    select * from {{ ref('plays') }}

),

final as (

    select
        play_id,
        motion,
        description,
        cast(coalesce(sla_days, {{ var('expansion_default_sla_days') }}) as {{ dbt.type_int() }})
            as sla_days,
        collateral,
        opens_opportunity,
        {{ optional_seed_column('plays', 'effort_hours', type_double()) }} as effort_hours
    from plays

)

select * from final
