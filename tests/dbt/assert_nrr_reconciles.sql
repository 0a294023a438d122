{#- NRR's bridge closes for the same cohort: starting + expansion -
    contraction - churn = ending, where starting and ending are recomputed
    here straight from the subscription lines (sources.md: ARR on a day is
    the arr of the lines active that day): the ARR on period_start of the
    accounts active then, and the ARR on period_end of those accounts plus
    the accounts of their families that were not. Returns one row per month
    that does not balance. -#}
with months as (

    select * from {{ ref('nrr_by_motion') }}

),

lines as (

    select account_id, arr, start_date, last_active_date
    from {{ ref('int_subscription_lines') }}

),

families as (

    select distinct account_id, family_id from {{ ref('int_account_families') }}

),

starting as (

    select months.month, lines.account_id, sum(lines.arr) as arr
    from months
    inner join lines
        on lines.start_date <= months.period_start
        and lines.last_active_date >= months.period_start
    group by months.month, lines.account_id

),

ending as (

    select months.month, lines.account_id, sum(lines.arr) as arr
    from months
    inner join lines
        on lines.start_date <= months.period_end
        and lines.last_active_date >= months.period_end
    group by months.month, lines.account_id

),

cohort_families as (

    select distinct starting.month, families.family_id
    from starting
    inner join families
        on families.account_id = starting.account_id

),

ending_of_cohort as (

    select ending.month, sum(ending.arr) as arr
    from ending
    left join starting
        on starting.month = ending.month
        and starting.account_id = ending.account_id
    left join families
        on families.account_id = ending.account_id
    left join cohort_families
        on cohort_families.month = ending.month
        and cohort_families.family_id = families.family_id
    where starting.account_id is not null
        or cohort_families.family_id is not null
    group by ending.month

),

starting_of_cohort as (

    select month, sum(arr) as arr
    from starting
    group by month

),

compared as (

    select
        months.month,
        coalesce(starting_of_cohort.arr, 0) as recomputed_starting_arr,
        coalesce(ending_of_cohort.arr, 0) as recomputed_ending_arr,
        months.starting_arr,
        months.expansion_arr,
        months.contraction_arr,
        months.churned_arr
    from months
    left join starting_of_cohort
        on starting_of_cohort.month = months.month
    left join ending_of_cohort
        on ending_of_cohort.month = months.month

)

-- a cent of tolerance: the sums add the same doubles in different orders
select *
from compared
where abs(recomputed_starting_arr - starting_arr) > 0.01
    or abs(starting_arr + expansion_arr - contraction_arr - churned_arr - recomputed_ending_arr) > 0.01
