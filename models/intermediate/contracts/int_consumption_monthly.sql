{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month_start',
        on_schema_change='fail'
    )
}}
{#- Per account, usage product and calendar month: units used against units
    committed by the usage lines active on the month's last day. Only
    complete months (last day <= as_of) are kept: a month in progress says
    nothing yet. A scheduled run recomputes only the months that completed
    since the last one. -#}
{%- set first_day = incremental_first_day(date_column='month_end') -%}
{%- set earliest_month = 'cast(' ~ dbt.date_trunc('month', add_days(-100, panel_start())) ~ ' as date)' -%}

with lines as (

    select * from {{ ref('int_subscription_lines') }}
    where billing_model = 'usage'

),

months as (

    {{ dbt.date_spine('month', earliest_month, first_incomplete_month(as_of_date())) }}

),

complete_months as (

    select month_start, month_end
    from (
        select
            cast(date_month as date) as month_start,
            {{ add_days(-1, 'cast(' ~ dbt.dateadd('month', 1, 'date_month') ~ ' as date)') }} as month_end
        from months
    ) as bounded
    where month_end <= {{ as_of_date() }}
    {%- if is_incremental() %}
        and month_end >= {{ add_days(-1, first_day) }}
    {%- endif %}

),

usage_daily as (

    select * from {{ ref('int_usage_daily') }}
    where usage_date >= (select min(month_start) from complete_months)
        and usage_date <= (select max(month_end) from complete_months)

),

committed as (

    select
        lines.account_id,
        lines.product,
        complete_months.month_start,
        complete_months.month_end,
        sum(coalesce(lines.committed_units_per_month, 0)) as units_committed
    from lines
    inner join complete_months
        on complete_months.month_end >= lines.start_date
        and complete_months.month_end <= lines.last_active_date
    group by lines.account_id, lines.product, complete_months.month_start, complete_months.month_end

),

used as (

    select
        account_id,
        product,
        cast({{ dbt.date_trunc('month', 'usage_date') }} as date) as month_start,
        {{ exact_sum("quantity") }} as units_used
    from usage_daily
    group by account_id, product, cast({{ dbt.date_trunc('month', 'usage_date') }} as date)

),

final as (

    select
        committed.account_id,
        committed.product,
        committed.month_start,
        committed.month_end,
        committed.units_committed,
        coalesce(used.units_used, 0) as units_used,
        case when committed.units_committed > 0
            then {{ safe_divide('coalesce(used.units_used, 0)', 'committed.units_committed') }}
        end as consumption_ratio
    from committed
    left join used
        on used.account_id = committed.account_id
        and used.product = committed.product
        and used.month_start = committed.month_start

)

select * from final
