{#- A table the sync keeps in the warehouse (schema var
    expansion_sync_schema), or none before the sync has created it: the
    models that read the sync's tables build the same with or without them. -#}
{% macro sync_relation(identifier) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=target.database,
        schema=var('expansion_sync_schema'),
        identifier=identifier)) }}
{%- endmacro %}
