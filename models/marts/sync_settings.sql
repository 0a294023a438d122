{#- One row: the settings of the models that the sync must share, published so
    that a value set once (in dbt_project.yml or with --vars at build time)
    reaches both sides. The sync reads no file of the project. -#}

with final as (

    select
        {{ as_of_date() }} as as_of,
        cast({{ var('expansion_cooldown_days') }} as {{ dbt.type_int() }}) as cooldown_days,
        cast({{ var('expansion_default_sla_days') }} as {{ dbt.type_int() }}) as default_sla_days,
        cast({{ var('expansion_history_days') }} as {{ dbt.type_int() }}) as history_days

)

select * from final
