{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- outcome_cross_sell fires when an outcome was achieved in the 30 days
    ending d and some product of plan_catalog has no active line. -#}
with activity as (

    select * from {{ ref('int_account_activity_daily') }}
    where outcomes_in_window > 0
        and date_day >= {{ first_day }}

),

account_days as (

    select * from {{ ref('int_account_days') }}

),

catalog_products as (

    select count(distinct product) as catalog_product_count from {{ ref('plan_catalog') }}

),

final as (

    select activity.account_id, 'outcome_cross_sell' as play_id, '' as product, activity.date_day
    from activity
    inner join account_days
        on account_days.account_id = activity.account_id
        and account_days.date_day = activity.date_day
    cross join catalog_products
    where account_days.active_products < catalog_products.catalog_product_count

)

select * from final
