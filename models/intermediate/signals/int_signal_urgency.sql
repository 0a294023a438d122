{#- For every signal key firing on as_of, how to close it: urgency on the
    signal's own (account, product) as of as_of, the high rules first (a key
    without a product only knows the compound rule), then low, else medium;
    and the close path that follows from urgency and the renewal distance. -#}
{%- set d = as_of_date() -%}

with episodes as (

    select * from {{ ref('int_signal_episodes') }}
    where last_fired_on = {{ d }}

),

account_signals as (

    select * from {{ ref('int_account_signals') }}

),

accounts as (

    select * from {{ ref('int_as_of_accounts') }}

),

account_products as (

    select * from {{ ref('int_as_of_account_products') }}

),

keyed as (

    select
        episodes.account_id,
        episodes.play_id,
        episodes.product,
        account_signals.signal_count,
        account_signals.signal_categories,
        account_signals.compound,
        accounts.days_to_renewal,
        account_products.limit_level,
        account_products.seat_utilization,
        account_products.gated_events_in_window,
        account_products.last_month_consumption_ratio
    from episodes
    inner join account_signals
        on account_signals.account_id = episodes.account_id
    inner join accounts
        on accounts.account_id = episodes.account_id
    left join account_products
        on account_products.account_id = episodes.account_id
        and account_products.product = episodes.product

),

with_urgency as (

    select
        *,
        {{ signal_urgency('compound', 'product', 'play_id', 'limit_level', 'seat_utilization',
                          'last_month_consumption_ratio', 'gated_events_in_window') }}
            as urgency
    from keyed

),

final as (

    select
        account_id,
        play_id,
        product,
        signal_count,
        signal_categories,
        compound,
        days_to_renewal,
        urgency,
        case
            when days_to_renewal <= {{ var('expansion_renewal_bundle_days') }}
                or urgency = 'low'
                then 'renewal_bundle'
            else 'mid_cycle'
        end as close_path
    from with_urgency

)

select * from final
