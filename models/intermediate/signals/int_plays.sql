{#- The play catalog (seed plays) with each play's SLA resolved: the seed's
    sla_days, or the default (var expansion_default_sla_days) when it leaves
    it empty. The one place that default is applied. The optional
    effort_hours (the hours one worked episode takes) is null when the seed
    has no such column, as are the optional talk_track (what to say, a
    template over the signal's evidence) and informed_roles (the roles told
    in their digest, `;`-separated). -#}

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
        {{ optional_seed_column('plays', 'effort_hours', type_double()) }} as effort_hours,
        {{ optional_seed_column('plays', 'talk_track', dbt.type_string()) }} as talk_track,
        {{ optional_seed_column('plays', 'informed_roles', dbt.type_string()) }} as informed_roles
    from plays

)

select * from final
