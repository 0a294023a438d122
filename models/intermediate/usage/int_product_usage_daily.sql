{{ daily_panel_config() }}
{%- set first_day = incremental_first_day() %}

{#- Units consumed per account and product on each day and in the
    expansion_units_window_days (30) ending it: the units counted against a
    tier's monthly_unit_limit and a usage commitment. -#}
{%- set window_days = var('expansion_units_window_days') | int %}
with usage_daily as (

    select * from {{ ref('int_usage_daily') }}
    where usage_date >= {{ add_days(-window_days, first_day) }}

),

product_days as (

    select account_id, product, usage_date, {{ exact_sum("quantity") }} as units
    from usage_daily
    group by account_id, product, usage_date

),

intervals as (

    select
        account_id,
        product,
        usage_date as counts_from,
        {{ add_days(window_days - 1, 'usage_date') }} as counts_to,
        units as units_in_window,
        0 as units
    from product_days

    union all

    select account_id, product, usage_date, usage_date, 0, units
    from product_days

),

daily as (

    {{ running_sum('intervals', ['account_id', 'product'], 'counts_from', 'counts_to', ['units_in_window', 'units'], first_day, exact_decimals=true) }}

)

select * from daily
