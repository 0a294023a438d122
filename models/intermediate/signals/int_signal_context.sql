{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='signal_id',
        post_hook=delete_rows_hook("seen_on < " ~ history_start()
            ~ " or seen_on > " ~ as_of_date())
    )
}}
{#- How each signal looked the last day it fired: its account's compound flag
    and its urgency. The signal models know these only for as_of, so the
    history of them accumulates one day at a time with the scheduled runs;
    a first build or a full refresh knows them only for the signals firing on
    as_of. Priority learns conversion per play, compound and urgency from the
    matured episodes this has recorded (int_play_priority). -#}

with episodes as (

    select * from {{ ref('int_signal_episodes') }}
    where last_fired_on = {{ as_of_date() }}

),

urgency as (

    select * from {{ ref('int_signal_urgency') }}

),

final as (

    select
        episodes.signal_id,
        urgency.compound,
        urgency.urgency,
        {{ as_of_date() }} as seen_on
    from episodes
    inner join urgency
        on urgency.account_id = episodes.account_id
        and urgency.play_id = episodes.play_id
        and urgency.product = episodes.product

)

select * from final
