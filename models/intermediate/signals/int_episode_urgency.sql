{#- Each episode's urgency, for measuring volume over time: the urgency a
    build recorded for it (int_signal_context: the last day a build saw it
    firing, compound rule included) where one did, else the urgency its fired
    days reach by the product rules of int_signal_urgency, read from the
    daily panels: high when on some fired day the product's limit level is
    intervention, its seat utilization >= 0.95 or its last complete month's
    consumption ratio >= 1.50; low when every fired day is a tier_upgrade at
    warning level with fewer than 3 gated events; else medium. The compound
    rule needs the fourteen account signals of each day, which the models
    keep only for as_of, so a replayed urgency can be lower than the one the
    owner saw; urgency_basis says which it is. -#}
with episodes as (

    select * from {{ ref('int_signal_episodes') }}

),

context as (

    select * from {{ ref('int_signal_context') }}

),

trigger_days as (

    select * from {{ ref('int_trigger_days') }}

),

limits as (

    select * from {{ ref('int_limit_utilization_daily') }}

),

consumption as (

    select * from {{ ref('int_consumption_monthly') }}

),

fired_days as (

    select
        episodes.signal_id,
        episodes.play_id,
        episodes.product,
        limits.limit_level,
        limits.seat_utilization,
        limits.gated_events_in_window,
        consumption.consumption_ratio as last_month_consumption_ratio
    from episodes
    inner join trigger_days
        on trigger_days.account_id = episodes.account_id
        and trigger_days.play_id = episodes.play_id
        and trigger_days.product = episodes.product
        and trigger_days.date_day >= episodes.episode_start
        and trigger_days.date_day <= episodes.last_fired_on
    left join limits
        on limits.account_id = trigger_days.account_id
        and limits.product = trigger_days.product
        and limits.date_day = trigger_days.date_day
    left join consumption
        on consumption.account_id = trigger_days.account_id
        and consumption.product = trigger_days.product
        and consumption.month_end = {{ last_complete_month_end('trigger_days.date_day') }}

),

day_urgency as (

    select
        signal_id,
        {{ urgency_order(signal_urgency('false', 'product', 'play_id', 'limit_level',
                                        'seat_utilization', 'last_month_consumption_ratio',
                                        'gated_events_in_window')) }} as urgency_order
    from fired_days

),

-- high on any fired day is high; low on every one is low
replayed as (

    select
        signal_id,
        case min(urgency_order) when 1 then 'high' when 3 then 'low' else 'medium' end
            as urgency
    from day_urgency
    group by signal_id

),

final as (

    select
        episodes.signal_id,
        episodes.account_id,
        episodes.play_id,
        episodes.product,
        episodes.episode_start,
        episodes.last_fired_on,
        coalesce(context.urgency, replayed.urgency, 'medium') as urgency,
        case when context.urgency is not null then 'recorded' else 'replayed' end
            as urgency_basis
    from episodes
    left join context
        on context.signal_id = episodes.signal_id
    left join replayed
        on replayed.signal_id = episodes.signal_id

)

select * from final
