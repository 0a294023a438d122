{#- A JSON object as text, portable: pairs are [key, sql expression, kind]
    with kind 'integer', 'number', 'boolean' or 'string'. Nulls become JSON null; strings escape
    backslashes, double quotes, newlines, carriage returns and tabs, so any name a customer
    types stays valid JSON. A backslash is never written inside a string literal: '\'
    is one backslash in DuckDB and PostgreSQL but an escape (and an unterminated string) in
    Spark, Databricks, BigQuery, Snowflake and MySQL, so it comes from char(92). -#}
{% macro json_object(pairs) -%}
    {%- set b = char(92) -%}
    {%- set parts = ["'{'"] -%}
    {%- for key, expression, kind in pairs -%}
        {%- if kind == 'string' -%}
            {%- set text = namespace(sql="cast(" ~ expression ~ " as " ~ dbt.type_string() ~ ")") -%}
            {%- for raw, written in [(b, dbt.concat([b, b])), ("'\"'", dbt.concat([b, "'\"'"])),
                                     (char(10), dbt.concat([b, "'n'"])),
                                     (char(13), dbt.concat([b, "'r'"])),
                                     (char(9), dbt.concat([b, "'t'"]))] -%}
                {%- set text.sql = "replace(" ~ text.sql ~ ", " ~ raw ~ ", " ~ written ~ ")" -%}
            {%- endfor -%}
            {%- set value = "coalesce(" ~ dbt.concat(["'\"'", text.sql, "'\"'"]) ~ ", 'null')" -%}
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


{#- The character with this code point as an expression, in every dialect. -#}
{% macro char(code) -%}
    {{ return(adapter.dispatch('char')(code)) }}
{%- endmacro %}

{% macro default__char(code) -%}
    chr({{ code }})
{%- endmacro %}

{% macro bigquery__char(code) -%}
    code_points_to_string([{{ code }}])
{%- endmacro %}
