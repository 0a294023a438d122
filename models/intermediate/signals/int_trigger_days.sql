{#- The daily history of which signal key fired: one row per account, play,
    product ('' for plays not about one product) and day of the history
    window on which the play's trigger held as of that day. Every play fires
    only for an account with an active line that day. -#}
with days as (

    select date_day from {{ ref('int_day_spine') }}
    where is_in_history

),

account_days as (

    select * from {{ ref('int_account_days') }}

),

owned as (

    select * from {{ ref('int_account_product_days') }}

),

limits as (

    select * from {{ ref('int_limit_utilization_daily') }}

),

consumption as (

    select * from {{ ref('int_consumption_monthly') }}

),

departments as (

    select * from {{ ref('int_department_first_usage') }}

),

adoption as (

    select * from {{ ref('int_feature_adoption_daily') }}

),

attach_rules as (

    select * from {{ ref('attach_rules') }}

),

activity as (

    select * from {{ ref('int_account_activity_daily') }}

),

health as (

    select * from {{ ref('int_health_daily') }}

),

families as (

    select * from {{ ref('int_account_families') }}

),

lines as (

    select * from {{ ref('int_subscription_lines') }}

),

catalog_products as (

    select count(distinct product) as catalog_product_count from {{ ref('plan_catalog') }}

),

-- seat_expansion: utilization >= threshold on every one of the N days ending d
seat_days as (

    select
        account_id,
        product,
        date_day,
        sum({{ as_int('seat_utilization >= ' ~ var('expansion_seat_utilization_threshold')) }}) over (
            partition by account_id, product order by date_day
            rows between {{ var('expansion_seat_sustained_days') - 1 }} preceding and current row
        ) as qualifying_days,
        min(date_day) over (
            partition by account_id, product order by date_day
            rows between {{ var('expansion_seat_sustained_days') - 1 }} preceding and current row
        ) as window_first_day
    from limits
    where has_seat_line

),

seat_expansion as (

    select account_id, 'seat_expansion' as play_id, product, date_day
    from seat_days
    where qualifying_days = {{ var('expansion_seat_sustained_days') }}
        and window_first_day = {{ add_days(1 - var('expansion_seat_sustained_days'), 'date_day') }}

),

-- departmental_expansion: a department's first usage in d's quarter, and
-- another's before that quarter
quarters as (

    select
        date_day,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start
    from days

),

departmental_expansion as (

    select distinct new_department.account_id, 'departmental_expansion' as play_id,
        '' as product, quarters.date_day
    from quarters
    inner join departments as new_department
        on new_department.first_usage_date >= quarters.quarter_start
        and new_department.first_usage_date <= quarters.date_day
    inner join departments as earlier_department
        on earlier_department.account_id = new_department.account_id
        and earlier_department.first_usage_date < quarters.quarter_start

),

-- consumption_commit: each of the last N complete months at or over the ratio
consumption_days as (

    select
        owned.account_id,
        owned.product,
        owned.date_day,
        cast({{ dbt.date_trunc('month', add_days(1, 'owned.date_day')) }} as date) as month_after_last_complete
    from owned
    where owned.committed_units_per_month > 0

),

consumption_commit as (

    select consumption_days.account_id, 'consumption_commit' as play_id,
        consumption_days.product, consumption_days.date_day
    from consumption_days
    inner join consumption
        on consumption.account_id = consumption_days.account_id
        and consumption.product = consumption_days.product
        and consumption.month_start < consumption_days.month_after_last_complete
        and consumption.month_start >= cast({{ dbt.dateadd('month', -var('expansion_consumption_months'),
                                                            'consumption_days.month_after_last_complete') }} as date)
    group by consumption_days.account_id, consumption_days.product, consumption_days.date_day
    having count(*) = {{ var('expansion_consumption_months') }}
        and min(case when consumption.units_committed > 0
                     and consumption.consumption_ratio >= {{ var('expansion_consumption_ratio_threshold') }}
                     then 1 else 0 end) = 1

),

-- tier_upgrade: below the top tier, and at the warning level or with a feature gap
tier_upgrade as (

    select account_id, 'tier_upgrade' as play_id, product, date_day
    from limits
    where below_top_tier
        and (limit_utilization >= {{ var('expansion_limit_warning') }} or has_feature_gap)

),

-- feature_attach: one attach_rules row holds (rows sharing an offer share a key)
feature_attach as (

    select distinct prerequisite.account_id, 'feature_attach' as play_id,
        attach_rules.offer_product as product, prerequisite.date_day
    from attach_rules
    inner join owned as prerequisite
        on prerequisite.product = attach_rules.prerequisite_product
    inner join adoption as tier_adoption
        on tier_adoption.account_id = prerequisite.account_id
        and tier_adoption.product = prerequisite.product
        and tier_adoption.tier_rank = prerequisite.current_tier_rank
        and tier_adoption.problem_feature = ''
        and tier_adoption.date_day = prerequisite.date_day
    inner join adoption as problem
        on problem.account_id = prerequisite.account_id
        and problem.product = prerequisite.product
        and problem.tier_rank = 0
        and problem.problem_feature = attach_rules.problem_feature
        and problem.date_day = prerequisite.date_day
    inner join (
        select product, plan_tier, count(*) as feature_count
        from {{ ref('tier_features') }}
        group by product, plan_tier
    ) as tier_size
        on tier_size.product = prerequisite.product
        and tier_size.plan_tier = prerequisite.current_plan_tier
    left join owned as offer
        on offer.account_id = prerequisite.account_id
        and offer.product = attach_rules.offer_product
        and offer.date_day = prerequisite.date_day
    where offer.account_id is null
        and {{ days_between('prerequisite.first_start_date', 'prerequisite.date_day') }}
            >= attach_rules.min_days_since_purchase
        and {{ safe_divide('tier_adoption.tier_features_used_30d', 'tier_size.feature_count') }}
            >= attach_rules.min_feature_adoption_pct
        and problem.problem_events_30d >= attach_rules.problem_min_events

),

-- outcome_cross_sell: a recent outcome, and a catalog product not owned
outcome_cross_sell as (

    select activity.account_id, 'outcome_cross_sell' as play_id, '' as product, activity.date_day
    from activity
    inner join account_days
        on account_days.account_id = activity.account_id
        and account_days.date_day = activity.date_day
    cross join catalog_products
    where activity.outcomes_30d > 0
        and account_days.active_products < catalog_products.catalog_product_count

),

-- bu_rollout: tenured, healthy, and a sister account without a line
family_sizes as (

    select account_id, count(*) as family_members
    from families
    group by account_id

),

family_coverage as (

    select
        families.account_id,
        days.date_day,
        count(*) as family_members,
        count(member_days.account_id) as active_family_members
    from families
    inner join family_sizes
        on family_sizes.account_id = families.account_id
        and family_sizes.family_members > 1
    cross join days
    left join account_days as member_days
        on member_days.account_id = families.member_account_id
        and member_days.date_day = days.date_day
    group by families.account_id, days.date_day

),

bu_rollout as (

    select account_days.account_id, 'bu_rollout' as play_id, '' as product, account_days.date_day
    from account_days
    inner join health
        on health.account_id = account_days.account_id
        and health.date_day = account_days.date_day
    inner join family_coverage
        on family_coverage.account_id = account_days.account_id
        and family_coverage.date_day = account_days.date_day
    where account_days.tenure_days >= {{ var('expansion_bu_min_tenure_days') }}
        and health.health_score >= {{ var('expansion_bu_min_health') }}
        and family_coverage.active_family_members < family_coverage.family_members

),

-- executive_expansion: an executive meeting and a feature inquiry, both recent
executive_expansion as (

    select account_id, 'executive_expansion' as play_id, '' as product, date_day
    from activity
    where executive_activities_14d > 0
        and feature_inquiries_14d > 0

),

-- post_renewal_expansion: a fresh renewal of a never-cancelled line, and promoters
renewals as (

    select distinct renewal.account_id, renewal.product, renewal.start_date
    from lines as renewal
    inner join lines as renewed
        on renewed.account_id = renewal.account_id
        and renewed.product = renewal.product
        and renewed.subscription_id <> renewal.subscription_id
        and renewed.cancelled_on is null
        and {{ add_days(1, 'renewed.end_date') }} = renewal.start_date

),

post_renewal_expansion as (

    select distinct renewals.account_id, 'post_renewal_expansion' as play_id,
        renewals.product, activity.date_day
    from renewals
    inner join activity
        on activity.account_id = renewals.account_id
        and activity.date_day >= renewals.start_date
        and activity.date_day <= {{ add_days(var('expansion_renewal_window_days') - 1, 'renewals.start_date') }}
    where activity.nps >= {{ var('expansion_post_renewal_min_nps') }}

),

all_plays as (

    select * from seat_expansion
    union all select * from departmental_expansion
    union all select * from consumption_commit
    union all select * from tier_upgrade
    union all select * from feature_attach
    union all select * from outcome_cross_sell
    union all select * from bu_rollout
    union all select * from executive_expansion
    union all select * from post_renewal_expansion

),

final as (

    select all_plays.account_id, all_plays.play_id, all_plays.product, all_plays.date_day
    from all_plays
    inner join account_days
        on account_days.account_id = all_plays.account_id
        and account_days.date_day = all_plays.date_day
    inner join days
        on days.date_day = all_plays.date_day

)

select * from final
