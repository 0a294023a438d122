{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- The daily history of which signal key fired: one row per account, play,
    product ('' for plays not about one product) and day of the history
    window on which the play's trigger held as of that day. Every play fires
    only for an account with an active line that day. Incremental: a
    scheduled run adds the new days. The plays are those of the registry,
    play_ids(), that the plays seed lists: a play left out of the seed is
    off and fires nothing. -#}
{%- set plays = play_ids() %}

with plays as (

    select * from {{ ref('plays') }}

),

account_days as (

    select * from {{ ref('int_account_days') }}
    where date_day >= {{ first_day }}

),

all_plays as (

    {% for play in plays %}
    select account_id, play_id, product, date_day from {{ ref('int_trigger_' ~ play) }}
    where date_day >= {{ first_day }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        all_plays.account_id,
        cast(all_plays.play_id as {{ dbt.type_string() }}) as play_id,
        cast(all_plays.product as {{ dbt.type_string() }}) as product,
        all_plays.date_day
    from all_plays
    inner join plays
        on plays.play_id = all_plays.play_id
    inner join account_days
        on account_days.account_id = all_plays.account_id
        and account_days.date_day = all_plays.date_day

)

select * from final
