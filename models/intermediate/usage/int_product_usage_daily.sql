{#- Units consumed per account and product in the 30 days ending each day. -#}
with usage_daily as (

    select * from {{ ref('int_usage_daily') }}
    where usage_date >= {{ add_days(-30, panel_start()) }}

),

product_days as (

    select account_id, product, usage_date, sum(quantity) as units
    from usage_daily
    group by account_id, product, usage_date

),

intervals as (

    select
        account_id,
        product,
        usage_date as counts_from,
        {{ add_days(29, 'usage_date') }} as counts_to,
        units as units_30d
    from product_days

),

daily as (

    {{ running_sum('intervals', ['account_id', 'product'], 'counts_from', 'counts_to', ['units_30d']) }}

)

select * from daily
