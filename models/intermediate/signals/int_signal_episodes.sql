{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_id', 'play_id', 'product'],
        on_schema_change='fail',
        post_hook="delete from {{ this }} where last_fired_on < " ~ history_start()
            ~ " or last_fired_on > " ~ as_of_date()
    )
}}
{#- Fired days of one key belong to one episode while the gap between
    consecutive fired days is at most the cooldown; a longer gap starts a new
    episode. The signal's id is derived from the key and the episode start,
    so a key that pauses and fires again within the cooldown keeps its id.
    A scheduled run recomputes only the keys that fired on the new days, and
    those whose first episode the sliding window just cut. -#}
{%- set since = none -%}
{%- if is_incremental() and execute -%}
    {%- set since = run_query("select max(processed_through) from " ~ this).columns[0].values()[0] -%}
    {%- if since is not none and (since | string)[:10] >= (as_of_iso() | string) -%}
        {%- set since = none -%}
    {%- endif -%}
{%- endif %}

with trigger_days as (

    select * from {{ ref('int_trigger_days') }}

),

{% if since is not none -%}
keys_to_recompute as (

    select distinct account_id, play_id, product
    from trigger_days
    where date_day > cast('{{ (since | string)[:10] }}' as date)

    union

    select account_id, play_id, product
    from {{ this }}
    where episode_start < {{ history_start() }}

),

key_days as (

    select trigger_days.*
    from trigger_days
    inner join keys_to_recompute
        on keys_to_recompute.account_id = trigger_days.account_id
        and keys_to_recompute.play_id = trigger_days.play_id
        and keys_to_recompute.product = trigger_days.product

),
{%- else -%}
key_days as (

    select * from trigger_days

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
        fired_days,
        {{ as_of_date() }} as processed_through
    from episodes

)

select * from final
