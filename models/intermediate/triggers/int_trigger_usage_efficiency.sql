{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- usage_efficiency fires for (account, product) with an active usage line on
    d when the units used in the last complete month are >= 1.30x those of the
    complete month 3 months before it (which used some), and the effective
    price per unit rose between the two: overage billed at a higher rate than
    the committed units outgrows the commitment. A month's effective price per
    unit = (units committed x unit_price + max(units used - units committed,
    0) x overage_unit_price) / units used, both months at the prices of the
    current usage tier on d (the highest tier_rank of the product's active
    usage lines), so the comparison reads the usage, not a price change.
    unit_price and overage_unit_price are optional plan_catalog columns:
    without them, or null for the tier, the play does not fire. -#}
{%- set months_back = var('expansion_efficiency_months_back') | int -%}

with usage_lines as (

    select * from {{ ref('int_subscription_lines') }}
    where billing_model = 'usage'

),

days as (

    select date_day from {{ ref('int_day_spine') }}
    where date_day >= {{ first_day }}

),

catalog as (

    select
        product,
        tier_rank,
        {{ optional_seed_column('plan_catalog', 'unit_price', type_double()) }} as unit_price,
        {{ optional_seed_column('plan_catalog', 'overage_unit_price', type_double()) }} as overage_unit_price
    from {{ ref('plan_catalog') }}

),

consumption as (

    select * from {{ ref('int_consumption_monthly') }}

),

usage_days as (

    select
        usage_lines.account_id,
        usage_lines.product,
        days.date_day,
        max(usage_lines.tier_rank) as usage_tier_rank
    from usage_lines
    inner join days
        on days.date_day >= usage_lines.start_date
        and days.date_day <= usage_lines.last_active_date
    group by usage_lines.account_id, usage_lines.product, days.date_day

),

-- the current usage tier's prices; a tier without both prices never fires
priced_days as (

    select
        usage_days.account_id,
        usage_days.product,
        usage_days.date_day,
        catalog.unit_price,
        catalog.overage_unit_price,
        {{ last_complete_month_end('usage_days.date_day') }} as last_month_end,
        cast({{ dbt.dateadd('month', -months_back,
                            dbt.date_trunc('month', last_complete_month_end('usage_days.date_day'))) }} as date)
            as month_before_start
    from usage_days
    inner join catalog
        on catalog.product = usage_days.product
        and catalog.tier_rank = usage_days.usage_tier_rank
    where catalog.unit_price is not null
        and catalog.overage_unit_price is not null

),

compared as (

    select
        priced_days.*,
        last_month.units_used as last_month_units_used,
        last_month.units_committed as last_month_units_committed,
        month_before.units_used as units_used_before,
        month_before.units_committed as units_committed_before
    from priced_days
    inner join consumption as last_month
        on last_month.account_id = priced_days.account_id
        and last_month.product = priced_days.product
        and last_month.month_end = priced_days.last_month_end
    inner join consumption as month_before
        on month_before.account_id = priced_days.account_id
        and month_before.product = priced_days.product
        and month_before.month_start = priced_days.month_before_start
    where month_before.units_used > 0

),

priced as (

    select
        *,
        {{ safe_divide('last_month_units_used', 'units_used_before') }} as usage_growth_ratio,
        {{ effective_unit_price('last_month_units_used', 'last_month_units_committed') }}
            as effective_unit_price,
        {{ effective_unit_price('units_used_before', 'units_committed_before') }}
            as effective_unit_price_before
    from compared

),

final as (

    select
        account_id,
        'usage_efficiency' as play_id,
        product,
        date_day,
        last_month_units_used,
        last_month_units_committed,
        units_used_before,
        usage_growth_ratio,
        effective_unit_price,
        effective_unit_price_before,
        unit_price,
        overage_unit_price
    from priced
    where usage_growth_ratio >= {{ var('expansion_efficiency_growth_ratio') }}
        -- compared in the exact type, so a price that did not move never rises by a float's last bit
        and cast(effective_unit_price as {{ type_exact() }})
            > cast(effective_unit_price_before as {{ type_exact() }})

)

select * from final
