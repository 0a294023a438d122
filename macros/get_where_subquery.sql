{#- dbt's where: filter of data tests, with one addition: the placeholder
    __as_of__ becomes as_of_date(), so the YAML tests that look at sample
    days resolve the evaluation date through the same macro as the models
    (dbt renders a test's where: at parse time, where project macros are not
    available; this is the override dbt documents for that). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace('__as_of__', as_of_date()) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
