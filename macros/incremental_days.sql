{#-
    The daily panels are incremental: a scheduled run computes only the days
    after the last one it stored, as long as that day is inside the history
    window and before as_of. Anything else (a first run, a backfill with an
    earlier as_of, a gap longer than the window) recomputes the whole window.
    incremental_first_day() returns the first day to compute as a SQL date.
-#}
{% macro incremental_first_day(window_start_iso=none, date_column='date_day') -%}
    {%- set window_start_iso = window_start_iso or panel_start_iso() -%}
    {%- set full_window = "cast('" ~ window_start_iso ~ "' as date)" -%}
    {%- if is_incremental() and execute -%}
        {%- set last = run_query("select max(" ~ date_column ~ ") from " ~ this).columns[0].values()[0] -%}
        {%- if last is not none -%}
            {%- set last_iso = (last | string)[:10] -%}
            {%- if last_iso < as_of_iso() and last_iso >= window_start_iso -%}
                {{- return(add_days(1, "cast('" ~ last_iso ~ "' as date)")) -}}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {{- return(full_window) -}}
{%- endmacro %}

{#- The config every daily panel shares: replace the days computed, and keep
    only the window. -#}
{% macro daily_panel_config(unique_key='date_day', window_start=none) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=unique_key,
        on_schema_change='fail',
        post_hook=delete_rows_hook("date_day < " ~ (window_start or panel_start()) ~ " or date_day > " ~ as_of_date())
    ) }}
{%- endmacro %}

{#- A post-hook that deletes the rows matching `condition` from the model
    (delete_rows, for adapters without DELETE too). -#}
{% macro delete_rows_hook(condition) -%}
    {%- if '"' in condition -%}
        {%- do exceptions.raise_compiler_error('delete_rows_hook: the condition cannot hold a double quote: ' ~ condition) -%}
    {%- endif -%}
    {{- return('{{ delete_rows(this, "' ~ condition ~ '") }}') -}}
{%- endmacro %}
