{{ daily_panel_config() }}
{%- set first_day = incremental_first_day() %}

{#- Seats assigned per account, product and day: the distinct users holding
    an assignment (assigned on d: assigned_on <= d < unassigned_on). A user's
    overlapping assignments of one product merge first, so they count once. -#}
with assignments as (

    select * from {{ ref('stg_seat_assignments') }}

),

held_spans as (

    -- an assignment undone on its first day holds no day
    select
        account_id,
        user_id,
        product,
        assigned_on as held_from,
        {{ add_days(-1, 'unassigned_on') }} as held_to
    from assignments
    where unassigned_on is null or unassigned_on > assigned_on

),

ordered as (

    select
        *,
        max(coalesce(held_to, cast('9999-12-30' as date))) over (
            partition by account_id, user_id, product
            order by held_from, held_to
            rows between unbounded preceding and 1 preceding
        ) as held_until_before
    from held_spans

),

flagged as (

    select
        *,
        case
            when held_until_before is null then 1
            when held_from > {{ add_days(1, 'held_until_before') }} then 1
            else 0
        end as starts_island
    from ordered

),

numbered as (

    select
        *,
        sum(starts_island) over (
            partition by account_id, user_id, product
            order by held_from, held_to
            rows between unbounded preceding and current row
        ) as island_number
    from flagged

),

merged as (

    select
        account_id,
        user_id,
        product,
        min(held_from) as held_from,
        case
            when max(case when held_to is null then 1 else 0 end) = 1 then null
            else max(held_to)
        end as held_to,
        1 as seats_assigned
    from numbered
    group by account_id, user_id, product, island_number

),

daily as (

    {{ running_sum('merged', ['account_id', 'product'], 'held_from', 'held_to', ['seats_assigned'], first_day) }}

)

select * from daily
