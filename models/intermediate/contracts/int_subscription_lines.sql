{#- Contract lines with their catalog tier and the last day each is active:
    the day before cancelled_on when it is cancelled early, else end_date. -#}
with lines as (

    select * from {{ ref('stg_subscriptions') }}

),

catalog as (

    select * from {{ ref('plan_catalog') }}

),

top_tiers as (

    select product, max(tier_rank) as top_tier_rank
    from catalog
    group by product

),

final as (

    select
        lines.subscription_id,
        lines.account_id,
        lines.product,
        lines.plan_tier,
        lines.billing_model,
        lines.seats_purchased,
        lines.committed_units_per_month,
        lines.arr,
        lines.start_date,
        lines.end_date,
        lines.cancelled_on,
        case
            when lines.cancelled_on is not null and lines.cancelled_on <= lines.end_date
                then {{ add_days(-1, 'lines.cancelled_on') }}
            else lines.end_date
        end as last_active_date,
        catalog.tier_rank,
        top_tiers.top_tier_rank
    from lines
    left join catalog
        on catalog.product = lines.product
        and catalog.plan_tier = lines.plan_tier
    left join top_tiers
        on top_tiers.product = lines.product

)

select * from final
