{#- A JSON object as text, portable: pairs are [key, sql expression, kind]
    with kind 'integer', 'number', 'boolean' or 'string'. Nulls become JSON null; strings escape
    backslashes and double quotes. -#}
{% macro json_object(pairs) -%}
    {%- set parts = ["'{'"] -%}
    {%- for key, expression, kind in pairs -%}
        {%- if kind == 'string' -%}
            {%- set value = "coalesce(" ~ dbt.concat(["'\"'", "replace(replace(cast(" ~ expression ~ " as " ~ dbt.type_string() ~ "), '\\', '\\\\'), '\"', '\\\"')", "'\"'"]) ~ ", 'null')" -%}
        {%- elif kind == 'boolean' -%}
            {%- set value = "(case when " ~ expression ~ " then 'true' when not " ~ expression ~ " then 'false' else 'null' end)" -%}
        {%- elif kind == 'integer' -%}
            {%- set value = "coalesce(cast(cast(" ~ expression ~ " as " ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ "), 'null')" -%}
        {%- else -%}
            {%- set value = "coalesce(cast(" ~ expression ~ " as " ~ dbt.type_string() ~ "), 'null')" -%}
        {%- endif -%}
        {%- do parts.append("'" ~ ('' if loop.first else ', ') ~ '"' ~ key ~ '": ' ~ "'") -%}
        {%- do parts.append(value) -%}
    {%- endfor -%}
    {%- do parts.append("'}'") -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}
