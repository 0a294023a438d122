{{ daily_panel_config() }}
{%- set first_day = incremental_first_day() %}

{#- Events on gated features in the expansion_feature_gap_days (30) ending
    each day, for every tier the account might hold: the consumer picks the
    tier current that day. -#}
{%- set window_days = var('expansion_feature_gap_days') | int %}
with usage_daily as (

    select * from {{ ref('int_usage_daily') }}
    where usage_date >= {{ add_days(-window_days, first_day) }}

),

gated as (

    select * from {{ ref('int_gated_features') }}

),

intervals as (

    select
        usage_daily.account_id,
        usage_daily.product,
        gated.tier_rank,
        usage_daily.usage_date as counts_from,
        {{ add_days(window_days - 1, 'usage_daily.usage_date') }} as counts_to,
        usage_daily.event_count as gated_events_in_window
    from usage_daily
    inner join gated
        on gated.product = usage_daily.product
        and gated.feature = usage_daily.feature

),

daily as (

    {{ running_sum('intervals', ['account_id', 'product', 'tier_rank'], 'counts_from', 'counts_to',
                   ['gated_events_in_window'], first_day) }}

)

select * from daily
