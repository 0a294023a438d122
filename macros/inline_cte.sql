{#- `with name as {{ inline_cte() }} (...)`: a CTE that several parts of a
    query read is computed again by each rather than stored once. On DuckDB
    and PostgreSQL a stored CTE of 10^7..10^8 rows is written out (spilled)
    and read back, which costs more than scanning its source twice. Spark,
    Snowflake and BigQuery inline CTEs themselves and have no such keyword. -#}
{% macro inline_cte() -%}
    {{ return(adapter.dispatch('inline_cte')()) }}
{%- endmacro %}

{% macro default__inline_cte() -%}
{%- endmacro %}

{% macro duckdb__inline_cte() -%}
    not materialized
{%- endmacro %}

{% macro postgres__inline_cte() -%}
    not materialized
{%- endmacro %}
