{#- A cheap grouping key for finding repeated event ids: on DuckDB a 64-bit
    hash, so the search over 10^8 ids groups integers instead of strings
    (different ids sharing a hash are only candidates: deduplication itself
    compares the ids). Elsewhere the id itself. -#}
{% macro event_id_bucket(event_id) -%}
    {{ return(adapter.dispatch('event_id_bucket')(event_id)) }}
{%- endmacro %}

{% macro default__event_id_bucket(event_id) -%}
    {{ event_id }}
{%- endmacro %}

{% macro duckdb__event_id_bucket(event_id) -%}
    hash({{ event_id }})
{%- endmacro %}
