{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- consumption_commit fires for (account, product) with an active usage line
    committing units on d when each of the last 2 complete months used at
    least 1.30x its commitment; a month with nothing committed does not fire. -#}
{%- set months = var('expansion_consumption_months') | int -%}

with owned as (

    select * from {{ ref('int_account_product_days') }}
    where committed_units_per_month > 0
        and date_day >= {{ first_day }}

),

consumption as (

    select * from {{ ref('int_consumption_monthly') }}

),

-- month m is complete on d when its last day <= d, so the first incomplete
-- month starts at the month of d + 1
candidate_days as (

    select
        account_id,
        product,
        date_day,
        {{ first_incomplete_month('date_day') }} as first_incomplete_month
    from owned

),

final as (

    select
        candidate_days.account_id,
        'consumption_commit' as play_id,
        candidate_days.product,
        candidate_days.date_day,
        -- the evidence: the last complete month and the weaker of the two
        max(case when consumption.month_end = {{ add_days(-1, 'candidate_days.first_incomplete_month') }}
            then consumption.units_used end) as last_month_units_used,
        max(case when consumption.month_end = {{ add_days(-1, 'candidate_days.first_incomplete_month') }}
            then consumption.units_committed end) as last_month_units_committed,
        max(case when consumption.month_end = {{ add_days(-1, 'candidate_days.first_incomplete_month') }}
            then consumption.consumption_ratio end) as last_month_ratio,
        min(consumption.consumption_ratio) as lowest_ratio
    from candidate_days
    inner join consumption
        on consumption.account_id = candidate_days.account_id
        and consumption.product = candidate_days.product
        and consumption.month_start < candidate_days.first_incomplete_month
        and consumption.month_start >= cast({{ dbt.dateadd('month', -months, 'candidate_days.first_incomplete_month') }} as date)
    group by candidate_days.account_id, candidate_days.product, candidate_days.date_day
    having count(*) = {{ months }}
        and min({{ as_int('consumption.units_committed > 0 and consumption.consumption_ratio >= '
                          ~ var('expansion_consumption_ratio_threshold')) }}) = 1

)

select * from final
