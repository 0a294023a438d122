{#- A 64-bit float on every adapter. type_double() is a 32-bit FLOAT on
    DuckDB, where 7/10 lands just below 0.70 and a threshold test fails. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}
{% macro bigquery__type_double() -%}float64{%- endmacro %}
{% macro spark__type_double() -%}double{%- endmacro %}
{% macro databricks__type_double() -%}double{%- endmacro %}
