{#- One row: the settings of the models that the sync must share, published so
    that a value set once (in dbt_project.yml or with --vars at build time)
    reaches both sides. The sync reads no file of the project. -#}

with registry as (

    {{ play_registry_rows() }}

),

plays as (

    select * from {{ ref('plays') }}

),

-- the plays the engine knows that the seed leaves out: off
plays_off as (

    select {{ dbt.listagg('registry.play_id', "', '", 'order by registry.play_id') }} as plays_off
    from registry
    left join plays
        on plays.play_id = registry.play_id
    where plays.play_id is null

),

final as (

    select
        {{ as_of_date() }} as as_of,
        cast({{ var('expansion_cooldown_days') }} as {{ dbt.type_int() }}) as cooldown_days,
        cast({{ var('expansion_default_sla_days') }} as {{ dbt.type_int() }}) as default_sla_days,
        cast({{ var('expansion_history_days') }} as {{ dbt.type_int() }}) as history_days,
        cast(coalesce(plays_off.plays_off, '') as {{ dbt.type_string() }}) as plays_off
    from plays_off

)

select * from final
