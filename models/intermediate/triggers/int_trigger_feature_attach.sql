{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- feature_attach fires for an offer product when any of its attach_rules rows
    holds on d: the prerequisite is active and owned for long enough, the
    offer is not owned, enough of the current tier's features were used in
    the 30 days ending d, and the problem feature was used often enough (a
    rule whose problem_feature or problem_min_events is blank has no problem
    condition). The var expansion_attach_adoption_shift (0) moves every rule's
    min_feature_adoption_pct at once, so a backtest can tune them with --vars. -#}
with attach_rules as (

    select * from {{ ref('attach_rules') }}

),

owned as (

    select * from {{ ref('int_account_product_days') }}
    where date_day >= {{ first_day }}

),

adoption as (

    select * from {{ ref('int_feature_adoption_daily') }}
    where date_day >= {{ first_day }}

),

tier_sizes as (

    {{ tier_feature_counts() }}

),

rule_days as (

    select
        prerequisite.account_id,
        attach_rules.offer_product,
        attach_rules.prerequisite_product,
        prerequisite.date_day,
        attach_rules.min_days_since_purchase,
        attach_rules.min_feature_adoption_pct,
        attach_rules.problem_min_events,
        -- a blank problem_feature or problem_min_events: the rule has no problem condition
        {{ is_blank('attach_rules.problem_feature') }} = 1
            or attach_rules.problem_min_events is null as without_problem_condition,
        {{ days_between('prerequisite.first_start_date', 'prerequisite.date_day') }} as days_since_purchase,
        {{ safe_divide('coalesce(tier_adoption.tier_features_used_in_window, 0)', 'tier_sizes.feature_count') }}
            as feature_adoption,
        coalesce(problem.problem_events_in_window, 0) as problem_events_in_window
    from attach_rules
    inner join owned as prerequisite
        on prerequisite.product = attach_rules.prerequisite_product
    inner join tier_sizes
        on tier_sizes.product = prerequisite.product
        and tier_sizes.plan_tier = prerequisite.current_plan_tier
    left join adoption as tier_adoption
        on tier_adoption.account_id = prerequisite.account_id
        and tier_adoption.product = prerequisite.product
        and tier_adoption.tier_rank = prerequisite.current_tier_rank
        and tier_adoption.problem_feature = ''
        and tier_adoption.date_day = prerequisite.date_day
    left join adoption as problem
        on problem.account_id = prerequisite.account_id
        and problem.product = prerequisite.product
        and problem.tier_rank = 0
        and problem.problem_feature = attach_rules.problem_feature
        and problem.date_day = prerequisite.date_day
    left join owned as offer
        on offer.account_id = prerequisite.account_id
        and offer.product = attach_rules.offer_product
        and offer.date_day = prerequisite.date_day
    where offer.account_id is null

),

final as (

    -- rules sharing an offer share a key; the evidence is the strongest rule
    select
        account_id,
        'feature_attach' as play_id,
        offer_product as product,
        date_day,
        max(prerequisite_product) as prerequisite_product,
        max(feature_adoption) as feature_adoption,
        max(problem_events_in_window) as problem_events_in_window
    from rule_days
    where days_since_purchase >= min_days_since_purchase
        and feature_adoption >= min_feature_adoption_pct + {{ var('expansion_attach_adoption_shift') }}
        and (without_problem_condition or problem_events_in_window >= problem_min_events)
    group by account_id, offer_product, date_day

)

select * from final
