{{ daily_panel_config() }}
{%- set first_day = incremental_first_day() %}

{#- Per account and day: distinct active users and distinct features used in
    the expansion_usage_window_days (30) ending that day, and the products
    used in them. -#}
{%- set window_days = var('expansion_usage_window_days') | int %}
with usage_daily as {{ inline_cte() if not is_incremental() }} (

    select * from {{ ref('int_usage_daily') }}
    -- earlier days cannot reach into the panel's windows
    where usage_date >= {{ add_days(-window_days, first_day) }}

),

user_days as (

    select distinct account_id, user_id, usage_date
    from usage_daily
    where user_id is not null

),

feature_days as (

    select distinct account_id, product, feature, usage_date
    from usage_daily

),

product_days as (

    select distinct account_id, product, usage_date
    from usage_daily

),

user_islands as (

    {{ coverage_islands('user_days', ['account_id', 'user_id'], 'usage_date', window_days) }}

),

feature_islands as (

    {{ coverage_islands('feature_days', ['account_id', 'product', 'feature'], 'usage_date', window_days) }}

),

product_islands as (

    {{ coverage_islands('product_days', ['account_id', 'product'], 'usage_date', window_days) }}

),

intervals as (

    select account_id, covered_from, covered_to,
        1 as active_users_in_window, 0 as features_used_in_window, 0 as products_used_in_window
    from user_islands
    union all
    select account_id, covered_from, covered_to, 0, 1, 0
    from feature_islands
    union all
    select account_id, covered_from, covered_to, 0, 0, 1
    from product_islands

),

daily as (

    {{ running_sum('intervals', ['account_id'], 'covered_from', 'covered_to',
                   ['active_users_in_window', 'features_used_in_window', 'products_used_in_window'], first_day) }}

)

select * from daily
