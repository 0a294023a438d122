{#- The evaluation date, the one resolver of the var expansion_as_of: every
    window ends on it and nothing reads the clock. A null var means the day
    the run started (UTC), which the CLI also passes explicitly.
    as_of_iso() returns the date as YYYY-MM-DD text (for Jinja arithmetic,
    incremental watermarks and the YAML tests' where: filters); as_of_date()
    returns it as a SQL date. -#}
{% macro as_of_iso() -%}
    {%- set configured = var('expansion_as_of', none) -%}
    {%- set day = (configured if configured else run_started_at.strftime('%Y-%m-%d')) | string -%}
    {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', day) -%}
        {{ exceptions.raise_compiler_error("var expansion_as_of must be an ISO date (YYYY-MM-DD), got: " ~ day) }}
    {%- endif -%}
    {{- return(day) -}}
{%- endmacro %}

{% macro as_of_date() -%}
    cast('{{ as_of_iso() }}' as date)
{%- endmacro %}

{#- An ISO date n days before as_of, as YYYY-MM-DD text. -#}
{% macro days_before_as_of_iso(days_back) -%}
    {%- set as_of = modules.datetime.date.fromisoformat(as_of_iso()) -%}
    {{- return((as_of - modules.datetime.timedelta(days=days_back | int)).isoformat()) -}}
{%- endmacro %}

{#- The first day of the trigger history window: the expansion_history_days
    days ending as_of. -#}
{% macro history_start_iso() -%}
    {{- return(days_before_as_of_iso((var('expansion_history_days') | int) - 1)) -}}
{%- endmacro %}

{% macro history_start() -%}
    cast('{{ history_start_iso() }}' as date)
{%- endmacro %}

{#- The first day of the daily panels: the history window plus the
    expansion_panel_lookback_days (60) that the rolling windows read on the
    window's first day need. -#}
{% macro panel_start_iso() -%}
    {{- return(days_before_as_of_iso((var('expansion_history_days') | int) - 1
                                     + (var('expansion_panel_lookback_days') | int))) -}}
{%- endmacro %}

{% macro panel_start() -%}
    cast('{{ panel_start_iso() }}' as date)
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

{#- Date text as YYYY-MM-DD. -#}
{% macro date_text(date_expression) -%}
    cast({{ date_expression }} as {{ dbt.type_string() }})
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
