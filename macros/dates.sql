{#- The evaluation date. Every window ends on it; nothing reads the clock.
    A null var means the day the run started (UTC), which the CLI also passes
    explicitly. -#}
{% macro as_of_date() -%}
    {%- set configured = var('expansion_as_of', none) -%}
    {%- set day = configured if configured else run_started_at.strftime('%Y-%m-%d') -%}
    {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', day | string) -%}
        {{ exceptions.raise_compiler_error("var expansion_as_of must be an ISO date (YYYY-MM-DD), got: " ~ day) }}
    {%- endif -%}
    cast('{{ day }}' as date)
{%- endmacro %}

{#- A date n days after (n < 0: before) a date expression, as a date on every adapter. -#}
{% macro add_days(n, date_expression) -%}
    cast({{ dbt.dateadd('day', n, date_expression) }} as date)
{%- endmacro %}

{#- Whole days from start to end (end - start). -#}
{% macro days_between(start_expression, end_expression) -%}
    {{ dbt.datediff(start_expression, end_expression, 'day') }}
{%- endmacro %}

{#- The UTC day of a timestamp. -#}
{% macro to_day(timestamp_expression) -%}
    cast({{ timestamp_expression }} as date)
{%- endmacro %}

{#- The first day of the trigger history window. -#}
{% macro history_start() -%}
    {{ add_days(1 - var('expansion_history_days') | int, as_of_date()) }}
{%- endmacro %}

{#- Date text as YYYY-MM-DD. -#}
{% macro date_text(date_expression) -%}
    cast({{ date_expression }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- The first day of the daily panels: the history window plus the 60 days of
    lookback that its rolling windows need on their first day. -#}
{% macro panel_start() -%}
    {{ add_days(-60, history_start()) }}
{%- endmacro %}

{#- The first month that is not complete on a day: month m is complete on d
    when its last day <= d, so on a month's last day that month is complete. -#}
{% macro first_incomplete_month(date_expression) -%}
    cast({{ dbt.date_trunc('month', add_days(1, date_expression)) }} as date)
{%- endmacro %}

{#- The last day of the last complete month on a day. -#}
{% macro last_complete_month_end(date_expression) -%}
    {{ add_days(-1, first_incomplete_month(date_expression)) }}
{%- endmacro %}
