{{ daily_panel_config() }}
{%- set first_day = incremental_first_day() %}

{#- For the prerequisite products of attach_rules, per account and day:
    distinct features of each tier used in the expansion_attach_window_days
    (30) ending that day (the consumer picks the tier current that day), and
    the events on each rule's problem feature in those days. Rows of the first kind carry
    problem_feature '', rows of the second tier_rank 0. -#}
with usage_daily as {{ inline_cte() if not is_incremental() }} (

    select * from {{ ref('int_usage_daily') }}
    where usage_date >= {{ add_days(-(var('expansion_attach_window_days') | int), first_day) }}

),

attach_rules as (

    select * from {{ ref('attach_rules') }}

),

catalog as (

    select * from {{ ref('plan_catalog') }}

),

tier_features as (

    select tier_features.product, catalog.tier_rank, tier_features.feature
    from {{ ref('tier_features') }} as tier_features
    inner join catalog
        on catalog.product = tier_features.product
        and catalog.plan_tier = tier_features.plan_tier

),

prerequisites as (

    select distinct prerequisite_product as product from attach_rules

),

problem_features as (

    select distinct prerequisite_product as product, problem_feature as feature from attach_rules
    -- a rule without a problem feature has no problem condition
    where {{ is_blank('problem_feature') }} = 0

),

feature_days as (

    select distinct usage_daily.account_id, usage_daily.product, usage_daily.feature, usage_daily.usage_date
    from usage_daily
    inner join prerequisites
        on prerequisites.product = usage_daily.product

),

feature_islands as (

    {{ coverage_islands('feature_days', ['account_id', 'product', 'feature'],
                        'usage_date', var('expansion_attach_window_days')) }}

),

{%- set measures = ['tier_features_used_in_window', 'problem_events_in_window'] %}

intervals as (

    select
        feature_islands.account_id,
        feature_islands.product,
        tier_features.tier_rank,
        cast('' as {{ dbt.type_string() }}) as problem_feature,
        feature_islands.covered_from as counts_from,
        feature_islands.covered_to as counts_to
        {{ measure_columns(measures, {'tier_features_used_in_window': 1}) }}
    from feature_islands
    inner join tier_features
        on tier_features.product = feature_islands.product
        and tier_features.feature = feature_islands.feature

    union all

    select
        usage_daily.account_id,
        usage_daily.product,
        cast(0 as {{ dbt.type_int() }}),
        usage_daily.feature,
        usage_daily.usage_date,
        {{ add_days(var('expansion_attach_window_days') - 1, 'usage_daily.usage_date') }}
        {{ measure_columns(measures, {'problem_events_in_window': 'usage_daily.event_count'}) }}
    from usage_daily
    inner join problem_features
        on problem_features.product = usage_daily.product
        and problem_features.feature = usage_daily.feature

),

daily as (

    {{ running_sum('intervals', ['account_id', 'product', 'tier_rank', 'problem_feature'],
                   'counts_from', 'counts_to', measures, first_day) }}

)

select * from daily
