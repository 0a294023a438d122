{#- Net revenue retention per complete calendar month of the history, over
    the trailing 12 months ending with it, and where the expansion came from.
    The movements and their rules are int_arr_movements': the cohort is the
    accounts active on the first day of the 12 months; ending ARR is the
    cohort's ARR on the month's last day plus the business units of its
    families that signed since, so

        starting_arr + expansion_arr - contraction_arr - churned_arr = ending_arr

    Each motion's share is of the expansion the five motions brought (price
    uplifts are counted in expansion_arr and NRR, not in the mix), to read
    against the 40/30/20/10 seat/consumption/cross-sell/tier mix of companies
    above 120% NRR. -#}
with months as (

    select * from {{ ref('int_history_months') }}

),

movements as (

    select
        *,
        case when movement = 'seat' then expansion_arr else 0 end as seat_arr,
        case when movement = 'consumption' then expansion_arr else 0 end as consumption_arr,
        case when movement = 'cross_sell' then expansion_arr else 0 end as cross_sell_arr,
        case when movement = 'tier' then expansion_arr else 0 end as tier_arr,
        case when movement = 'bu_rollout' then expansion_arr else 0 end as bu_rollout_arr,
        case when movement = 'price' then expansion_arr else 0 end as price_arr
    from {{ ref('int_arr_movements') }}

),

per_month as (

    select
        months.month_start,
        months.period_start,
        months.period_end,
        count(distinct case when movements.in_cohort then movements.account_id end)
            as cohort_accounts,
        coalesce({{ exact_sum('movements.start_arr') }}, 0) as starting_arr,
        coalesce({{ exact_sum('movements.seat_arr') }}, 0) as seat_arr,
        coalesce({{ exact_sum('movements.consumption_arr') }}, 0) as consumption_arr,
        coalesce({{ exact_sum('movements.cross_sell_arr') }}, 0) as cross_sell_arr,
        coalesce({{ exact_sum('movements.tier_arr') }}, 0) as tier_arr,
        coalesce({{ exact_sum('movements.bu_rollout_arr') }}, 0) as bu_rollout_arr,
        coalesce({{ exact_sum('movements.price_arr') }}, 0) as price_arr,
        coalesce({{ exact_sum('movements.expansion_arr') }}, 0) as expansion_arr,
        coalesce({{ exact_sum('movements.contraction_arr') }}, 0) as contraction_arr,
        coalesce({{ exact_sum('movements.churned_arr') }}, 0) as churned_arr,
        coalesce({{ exact_sum('movements.end_arr') }}, 0) as ending_arr
    from months
    left join movements
        on movements.month_start = months.month_start
    group by months.month_start, months.period_start, months.period_end

),

final as (

    select
        month_start as month,
        period_start,
        period_end,
        {{ as_of_date() }} as as_of,
        cast(cohort_accounts as {{ dbt.type_int() }}) as cohort_accounts,
        cast(starting_arr as {{ type_double() }}) as starting_arr,
        cast(seat_arr as {{ type_double() }}) as seat_expansion_arr,
        cast(consumption_arr as {{ type_double() }}) as consumption_expansion_arr,
        cast(cross_sell_arr as {{ type_double() }}) as cross_sell_expansion_arr,
        cast(tier_arr as {{ type_double() }}) as tier_expansion_arr,
        cast(bu_rollout_arr as {{ type_double() }}) as bu_rollout_expansion_arr,
        cast(price_arr as {{ type_double() }}) as price_expansion_arr,
        cast(expansion_arr as {{ type_double() }}) as expansion_arr,
        cast(contraction_arr as {{ type_double() }}) as contraction_arr,
        cast(churned_arr as {{ type_double() }}) as churned_arr,
        cast(ending_arr as {{ type_double() }}) as ending_arr,
        {{ safe_divide('starting_arr + expansion_arr - contraction_arr - churned_arr', 'starting_arr') }}
            as nrr,
        {{ safe_divide('starting_arr - contraction_arr - churned_arr', 'starting_arr') }} as grr,
        {{ safe_divide('seat_arr', 'expansion_arr - price_arr') }} as seat_share,
        {{ safe_divide('consumption_arr', 'expansion_arr - price_arr') }} as consumption_share,
        {{ safe_divide('cross_sell_arr', 'expansion_arr - price_arr') }} as cross_sell_share,
        {{ safe_divide('tier_arr', 'expansion_arr - price_arr') }} as tier_share,
        {{ safe_divide('bu_rollout_arr', 'expansion_arr - price_arr') }} as bu_rollout_share
    from per_month

)

select * from final
