{#- For each tier, the features of its product it does not include but a
    higher tier does: using one of them is reaching past the plan. -#}
with catalog as (

    select * from {{ ref('plan_catalog') }}

),

tier_features as (

    select * from {{ ref('tier_features') }}

),

features_by_rank as (

    select tier_features.product, catalog.tier_rank, tier_features.feature
    from tier_features
    inner join catalog
        on catalog.product = tier_features.product
        and catalog.plan_tier = tier_features.plan_tier

),

final as (

    select distinct
        current_tier.product,
        current_tier.tier_rank,
        higher.feature
    from catalog as current_tier
    inner join features_by_rank as higher
        on higher.product = current_tier.product
        and higher.tier_rank > current_tier.tier_rank
    where not exists (
        select 1
        from features_by_rank as own
        where own.product = current_tier.product
            and own.tier_rank = current_tier.tier_rank
            and own.feature = higher.feature
    )

)

select * from final
