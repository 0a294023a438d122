{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_id', 'department'],
        on_schema_change='fail'
    )
}}
{#- When each department of an account first used the product: the first
    usage day of any user of that department. Users without a department are
    ignored. A scheduled run folds in the usage of the days since the last
    run (processed_through); consumers compare first_usage_date with the day
    they evaluate, so a later first usage never leaks into an earlier day. -#}
{%- set since = none -%}
{%- if is_incremental() and execute -%}
    {%- set since = run_query("select max(processed_through) from " ~ this).columns[0].values()[0] -%}
{%- endif %}

with usage_daily as (

    select * from {{ ref('int_usage_daily') }}
    where user_id is not null
    {%- if since is not none %}
        -- the usage model re-reads its last days; read them again too
        and usage_date > {{ add_days(-(var('expansion_dedupe_lookback_days') | int), "cast('" ~ (since | string)[:10] ~ "' as date)") }}
    {%- endif %}

),

users as (

    select * from {{ ref('stg_users') }}

),

user_first_usage as (

    select account_id, user_id, min(usage_date) as first_usage_date
    from usage_daily
    group by account_id, user_id

),

new_first_usage as (

    select
        users.account_id,
        users.department,
        min(user_first_usage.first_usage_date) as first_usage_date
    from user_first_usage
    inner join users
        on users.user_id = user_first_usage.user_id
    where users.department is not null
    group by users.account_id, users.department

),

combined as (

    select account_id, department, first_usage_date from new_first_usage
    {%- if is_incremental() %}
    union all
    select account_id, department, first_usage_date from {{ this }}
    {%- endif %}

),

final as (

    select
        account_id,
        department,
        min(first_usage_date) as first_usage_date,
        {{ as_of_date() }} as processed_through
    from combined
    group by account_id, department

)

select * from final
