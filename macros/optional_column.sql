{#- A seed column the contract marks optional: the column when the relation
    has it, else a typed null, so a catalog written before the column existed
    keeps building. Reads the relation's columns at run time (the seed is
    built before the models that read it). -#}
{% macro optional_column(relation, column_name, data_type) -%}
    {%- set present = false -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- set present = column_name | lower in names -%}
    {%- endif -%}
    {%- if present -%}
        cast({{ column_name }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
