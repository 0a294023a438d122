{#- The work queue: one row per account with a signal on as_of, ranked by
    the expected value of its signals (the sum of their priority_score),
    overall and in its owner's queue, with its strongest signal and the
    plays it fires ("start with the top 25 expansion-ready accounts"). -#}

with signals as (

    select * from {{ ref('expansion_signals') }}

),

-- the account's signals from the strongest down
ordered_signals as (

    select
        *,
        row_number() over (
            partition by account_id
            order by priority_score desc, {{ urgency_order('urgency') }}, episode_start, signal_id
        ) as rank_in_account
    from signals

),

-- a play that fires on two products counts once, at its stronger signal
account_plays as (

    select
        account_id,
        play_id,
        min(rank_in_account) as first_rank
    from ordered_signals
    group by account_id, play_id

),

play_lists as (

    select
        account_id,
        {{ dbt.listagg('play_id', "', '", 'order by first_rank') }} as plays
    from account_plays
    group by account_id

),

accounts as (

    select
        account_id,
        count(*) as signals,
        sum(priority_score) as expected_value
    from signals
    group by account_id

),

assembled as (

    select
        strongest.account_id,
        strongest.crm_account_id,
        strongest.account_name,
        strongest.as_of,
        strongest.owner_role,
        strongest.owner_email,
        accounts.expected_value,
        accounts.signals,
        strongest.signal_count,
        strongest.signal_categories,
        strongest.compound,
        strongest.signal_id as strongest_signal_id,
        strongest.play_id as strongest_play_id,
        strongest.product as strongest_product,
        strongest.urgency as strongest_urgency,
        play_lists.plays
    from ordered_signals as strongest
    inner join accounts
        on accounts.account_id = strongest.account_id
    inner join play_lists
        on play_lists.account_id = strongest.account_id
    where strongest.rank_in_account = 1

),

final as (

    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(crm_account_id as {{ dbt.type_string() }}) as crm_account_id,
        cast(account_name as {{ dbt.type_string() }}) as account_name,
        as_of,
        cast(owner_role as {{ dbt.type_string() }}) as owner_role,
        cast(owner_email as {{ dbt.type_string() }}) as owner_email,
        cast(expected_value as {{ type_double() }}) as expected_value,
        cast(row_number() over (order by expected_value desc, account_id) as {{ dbt.type_int() }})
            as overall_rank,
        cast(row_number() over (partition by owner_email order by expected_value desc, account_id)
            as {{ dbt.type_int() }}) as owner_rank,
        cast(signals as {{ dbt.type_int() }}) as signals,
        cast(signal_count as {{ dbt.type_int() }}) as signal_count,
        cast(signal_categories as {{ dbt.type_int() }}) as signal_categories,
        cast(compound as {{ dbt.type_boolean() }}) as compound,
        cast(strongest_signal_id as {{ dbt.type_string() }}) as strongest_signal_id,
        cast(strongest_play_id as {{ dbt.type_string() }}) as strongest_play_id,
        cast(strongest_product as {{ dbt.type_string() }}) as strongest_product,
        cast(strongest_urgency as {{ dbt.type_string() }}) as strongest_urgency,
        cast(plays as {{ dbt.type_string() }}) as plays
    from assembled

)

select * from final
