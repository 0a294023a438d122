{#- A seed column the contract marks optional: the column when the seed, as
    built in the warehouse, has it, else a typed null, so a catalog written
    before the column existed keeps building. The seed is looked up through
    the project graph rather than ref(), which a unit test points at its
    fixture; a unit test has no graph, and finds the seed in the seeds'
    schema (`config`). A fixture has the columns of the built seed. -#}
{% macro optional_seed_column(seed_name, column_name, data_type) -%}
    {%- set present = false -%}
    {%- if execute -%}
        {%- set node = graph.get('nodes', {}).get('seed.' ~ project_name ~ '.' ~ seed_name) -%}
        {%- if node -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- else -%}
            {%- set relation = adapter.get_relation(
                database=target.database, schema=generate_schema_name('config', none),
                identifier=seed_name) -%}
        {%- endif -%}
        {%- if relation -%}
            {%- set names = adapter.get_columns_in_relation(relation)
                | map(attribute='name') | map('lower') | list -%}
            {%- set present = column_name | lower in names -%}
        {%- endif -%}
    {%- endif -%}
    {%- if present -%}
        cast({{ column_name }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
