{#- Fired days of one key belong to one episode while the gap between
    consecutive fired days is at most the cooldown; a longer gap starts a new
    episode. The signal's id is derived from the key and the episode start,
    so a key that pauses and fires again within the cooldown keeps its id. -#}
with trigger_days as (

    select * from {{ ref('int_trigger_days') }}

),

ordered as (

    select
        *,
        lag(date_day) over (partition by account_id, play_id, product order by date_day)
            as previous_fired_on
    from trigger_days

),

flagged as (

    select
        *,
        case
            when previous_fired_on is null then 1
            when {{ days_between('previous_fired_on', 'date_day') }} > {{ var('expansion_cooldown_days') }} then 1
            else 0
        end as starts_episode
    from ordered

),

numbered as (

    select
        *,
        sum(starts_episode) over (
            partition by account_id, play_id, product order by date_day
            rows between unbounded preceding and current row
        ) as episode_number
    from flagged

),

episodes as (

    select
        account_id,
        play_id,
        product,
        episode_number,
        min(date_day) as episode_start,
        max(date_day) as last_fired_on,
        count(*) as fired_days
    from numbered
    group by account_id, play_id, product, episode_number

),

final as (

    select
        {{ signal_id('account_id', 'play_id', 'product', 'episode_start') }} as signal_id,
        account_id,
        play_id,
        product,
        episode_number,
        episode_start,
        last_fired_on,
        fired_days
    from episodes

)

select * from final
