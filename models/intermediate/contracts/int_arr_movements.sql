{#- What changed in each account's contracts over the trailing 12 months
    ending with each complete calendar month of the history: one row per
    month, cohort account and product (and per new family account), with
    its ARR at the start and the end and the movement it counts as.

    The cohort of month m is the accounts with an active line on the first
    day of the 12 months ending with m (period_start). Their contracts are
    compared at period_start and on m's last day (period_end), product by
    product, never netted across products:

      new product (no ARR at the start)      expansion, cross_sell
      more ARR on a product held at the start expansion, by what changed:
                                              a higher tier, else more seats,
                                              else more committed units, else
                                              price (an uplift at the same
                                              tier, seats and commitment)
      less ARR, the account still active      contraction
      less ARR, the account has none left     churn

    An account outside the cohort with ARR at period_end whose family (its
    parent, or itself as a top account, and the accounts under it) has a
    cohort account is a business-unit rollout: its ARR is the cohort's
    bu_rollout expansion. An account that left and came back within the 12
    months is compared on the two days only. -#}
with lines as (

    select * from {{ ref('int_subscription_lines') }}
    where last_active_date >= start_date

),

families as (

    select distinct account_id, family_id from {{ ref('int_account_families') }}

),

periods as (

    select * from {{ ref('int_history_months') }}

),

snapshots as (

    select periods.month_start, 'start' as side, lines.*
    from periods
    inner join lines
        on lines.start_date <= periods.period_start
        and lines.last_active_date >= periods.period_start

    union all

    select periods.month_start, 'end' as side, lines.*
    from periods
    inner join lines
        on lines.start_date <= periods.period_end
        and lines.last_active_date >= periods.period_end

),

product_sides as (

    select
        month_start,
        account_id,
        product,
        {{ exact_sum("case when side = 'start' then arr end") }} as start_arr,
        sum(case when side = 'start' then coalesce(seats_purchased, 0) end) as start_seats,
        sum(case when side = 'start' then coalesce(committed_units_per_month, 0) end) as start_units,
        max(case when side = 'start' then tier_rank end) as start_tier_rank,
        {{ exact_sum("case when side = 'end' then arr end") }} as end_arr,
        sum(case when side = 'end' then coalesce(seats_purchased, 0) end) as end_seats,
        sum(case when side = 'end' then coalesce(committed_units_per_month, 0) end) as end_units,
        max(case when side = 'end' then tier_rank end) as end_tier_rank,
        max(case when side = 'start' then 1 else 0 end) as on_start
    from snapshots
    group by month_start, account_id, product

),

accounts as (

    select
        month_start,
        account_id,
        max(on_start) = 1 as in_cohort,
        coalesce({{ exact_sum('end_arr') }}, 0) as account_end_arr
    from product_sides
    group by month_start, account_id

),

cohort_families as (

    select distinct accounts.month_start, families.family_id
    from accounts
    inner join families
        on families.account_id = accounts.account_id
    where accounts.in_cohort

),

new_family_accounts as (

    select accounts.month_start, accounts.account_id
    from accounts
    inner join families
        on families.account_id = accounts.account_id
    inner join cohort_families
        on cohort_families.month_start = accounts.month_start
        and cohort_families.family_id = families.family_id
    where not accounts.in_cohort
        and accounts.account_end_arr > 0

),

classified as (

    select
        product_sides.month_start,
        product_sides.account_id,
        product_sides.product,
        accounts.in_cohort,
        coalesce(product_sides.start_arr, 0) as start_arr,
        coalesce(product_sides.end_arr, 0) as end_arr,
        case
            when not accounts.in_cohort then 'bu_rollout'
            when coalesce(product_sides.start_arr, 0) = 0 and coalesce(product_sides.end_arr, 0) > 0
                then 'cross_sell'
            when product_sides.end_arr > product_sides.start_arr then
                case
                    when product_sides.end_tier_rank > product_sides.start_tier_rank then 'tier'
                    when product_sides.end_seats > product_sides.start_seats then 'seat'
                    when product_sides.end_units > product_sides.start_units then 'consumption'
                    else 'price'
                end
            when coalesce(product_sides.end_arr, 0) < product_sides.start_arr then
                case when accounts.account_end_arr > 0 then 'contraction' else 'churn' end
            else 'unchanged'
        end as movement
    from product_sides
    inner join accounts
        on accounts.month_start = product_sides.month_start
        and accounts.account_id = product_sides.account_id
    left join new_family_accounts
        on new_family_accounts.month_start = product_sides.month_start
        and new_family_accounts.account_id = product_sides.account_id
    -- outside the cohort only a new account of a cohort family counts
    where accounts.in_cohort or new_family_accounts.account_id is not null

),

final as (

    select
        classified.month_start,
        periods.period_start,
        periods.period_end,
        classified.account_id,
        classified.product,
        classified.in_cohort,
        classified.start_arr,
        classified.end_arr,
        classified.movement,
        case when classified.movement in ('seat', 'consumption', 'cross_sell', 'tier', 'bu_rollout', 'price')
            then classified.end_arr - classified.start_arr else 0 end as expansion_arr,
        case when classified.movement = 'contraction'
            then classified.start_arr - classified.end_arr else 0 end as contraction_arr,
        case when classified.movement = 'churn'
            then classified.start_arr - classified.end_arr else 0 end as churned_arr
    from classified
    inner join periods
        on periods.month_start = classified.month_start

)

select * from final
