{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_id', 'play_id', 'product'],
        on_schema_change='sync_all_columns',
        post_hook=delete_rows_hook("last_fired_on < " ~ history_start()
            ~ " or last_fired_on > " ~ as_of_date())
    )
}}
{#- Fired days of one key belong to one episode while the gap between
    consecutive fired days is at most the cooldown; a longer gap starts a new
    episode. The signal's id is derived from the key and the episode start,
    so a key that pauses and fires again within the cooldown keeps its id.

    An episode keeps its identity for as long as it lasts. A first build, a
    full refresh or a backtest (an as_of before the stored one) computes the
    episodes from the history window. A scheduled run carries them forward
    instead: only the fired days after a key's stored last fired day are new,
    and they extend the key's latest stored episode (keeping its start, even
    once that day has left the window) or start new ones. A rerun on the same
    as_of adds only what the first run of the day did not have. -#}

with trigger_days as (

    select * from {{ ref('int_trigger_days') }}

),

{% if is_incremental() -%}
watermark as (

    select max(processed_through) as processed_through
    from {{ this }}

),

-- What a chain of daily runs stored. After a backfill to an earlier as_of,
-- or a gap longer than the window (fired days lost), nothing is carried.
stored as (

    select stored_episodes.*
    from {{ this }} as stored_episodes
    cross join watermark
    where watermark.processed_through >= {{ add_days(-1, history_start()) }}
        and watermark.processed_through <= {{ as_of_date() }}

),

stored_keys as (

    select account_id, play_id, product, max(last_fired_on) as stored_last_fired_on
    from stored
    group by account_id, play_id, product

),

new_days as (

    select trigger_days.account_id, trigger_days.play_id, trigger_days.product,
        trigger_days.date_day
    from trigger_days
    left join stored_keys
        on stored_keys.account_id = trigger_days.account_id
        and stored_keys.play_id = trigger_days.play_id
        and stored_keys.product = trigger_days.product
    where stored_keys.stored_last_fired_on is null
        or trigger_days.date_day > stored_keys.stored_last_fired_on

),

touched_keys as (

    select distinct account_id, play_id, product
    from new_days

),

-- Every stored episode of a key with new fired days: the key is replaced whole.
touched_episodes as (

    select
        stored.*,
        row_number() over (
            partition by stored.account_id, stored.play_id, stored.product
            order by stored.episode_start desc
        ) as recency
    from stored
    inner join touched_keys
        on touched_keys.account_id = stored.account_id
        and touched_keys.play_id = stored.play_id
        and touched_keys.product = stored.product

),

-- The key's latest stored episode stands in for its fired days: its last
-- fired day carries the episode's start and day count.
key_days as (

    select account_id, play_id, product, last_fired_on as date_day,
        episode_start as carried_start, fired_days as day_count
    from touched_episodes
    where recency = 1

    union all

    select account_id, play_id, product, date_day,
        cast(null as date) as carried_start, 1 as day_count
    from new_days

),

earlier_episodes as (

    select account_id, play_id, product, episode_start, last_fired_on, fired_days
    from touched_episodes
    where recency > 1

),
{%- else -%}
key_days as (

    select account_id, play_id, product, date_day,
        cast(null as date) as carried_start, 1 as day_count
    from trigger_days

),
{%- endif %}

ordered as (

    select
        *,
        lag(date_day) over (partition by account_id, play_id, product order by date_day)
            as previous_fired_on
    from key_days

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
        min(coalesce(carried_start, date_day)) as episode_start,
        max(date_day) as last_fired_on,
        sum(day_count) as fired_days
    from numbered
    group by account_id, play_id, product, episode_number
{%- if is_incremental() %}

    union all

    select * from earlier_episodes
{%- endif %}

),

final as (

    select
        {{ signal_id('account_id', 'play_id', 'product', 'episode_start') }} as signal_id,
        account_id,
        play_id,
        product,
        cast(episode_start as date) as episode_start,
        cast(last_fired_on as date) as last_fired_on,
        cast(fired_days as {{ dbt.type_bigint() }}) as fired_days,
        {{ as_of_date() }} as processed_through
    from episodes

)

select * from final
