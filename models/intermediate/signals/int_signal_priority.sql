{#- The expected expansion value of working each signal firing on as_of:
    priority_score = conversion probability x expected amount, both learned
    from the matured episodes of the history (int_episode_outcomes).

    Each estimate is shrunk toward the level above it, as pseudo-episodes:
      prior      p0 = expansion_priority_prior_rate, a0 = expansion_priority_prior_amount
      play       p  = (conversions + k * p0) / (matured + k)
                 a  = (amount won + ka * a0) / (conversions + ka)
      segment    the same toward the play's p and a, for the play's signals
                 with the same compound flag and urgency, used only when that
                 segment has at least expansion_priority_min_episodes matured
                 episodes
    with k = expansion_priority_prior_weight and ka =
    expansion_priority_amount_prior_weight. No history gives the prior; a
    thin one moves the play a little from it; a rich one splits it. -#}
{%- set k = var('expansion_priority_prior_weight') -%}
{%- set ka = var('expansion_priority_amount_prior_weight') -%}
{%- set p0 = var('expansion_priority_prior_rate') -%}
{%- set a0 = var('expansion_priority_prior_amount') -%}

with signals as (

    select * from {{ ref('int_signal_urgency') }}

),

plays as (

    select * from {{ ref('int_plays') }}

),

matured as (

    select
        play_id,
        compound,
        urgency,
        {{ as_int('converted') }} as converted,
        case when converted then coalesce(expansion_amount, 0) else 0 end as amount_won
    from {{ ref('int_episode_outcomes') }}
    where is_matured

),

play_history as (

    select
        plays.play_id,
        count(matured.play_id) as matured_episodes,
        coalesce(sum(matured.converted), 0) as conversions,
        coalesce(sum(matured.amount_won), 0) as amount_won
    from plays
    left join matured
        on matured.play_id = plays.play_id
    group by plays.play_id

),

play_estimates as (

    select
        play_id,
        matured_episodes,
        (conversions + {{ k }} * {{ p0 }}) / cast(matured_episodes + {{ k }} as {{ type_double() }})
            as play_probability,
        (amount_won + {{ ka }} * {{ a0 }}) / cast(conversions + {{ ka }} as {{ type_double() }})
            as play_amount
    from play_history

),

segment_history as (

    select
        play_id,
        compound,
        urgency,
        count(*) as matured_episodes,
        sum(converted) as conversions,
        sum(amount_won) as amount_won
    from matured
    where compound is not null
        and urgency is not null
    group by play_id, compound, urgency

),

segment_estimates as (

    select
        segment_history.play_id,
        segment_history.compound,
        segment_history.urgency,
        (segment_history.conversions + {{ k }} * play_estimates.play_probability)
            / cast(segment_history.matured_episodes + {{ k }} as {{ type_double() }})
            as segment_probability,
        (segment_history.amount_won + {{ ka }} * play_estimates.play_amount)
            / cast(segment_history.conversions + {{ ka }} as {{ type_double() }})
            as segment_amount
    from segment_history
    inner join play_estimates
        on play_estimates.play_id = segment_history.play_id
    where segment_history.matured_episodes >= {{ var('expansion_priority_min_episodes') }}

),

final as (

    select
        signals.account_id,
        signals.play_id,
        signals.product,
        coalesce(segment_estimates.segment_probability, play_estimates.play_probability)
            as conversion_probability,
        coalesce(segment_estimates.segment_amount, play_estimates.play_amount)
            as expected_amount,
        case
            when segment_estimates.play_id is not null then 'segment'
            when play_estimates.matured_episodes > 0 then 'play'
            else 'prior'
        end as priority_basis
    from signals
    inner join play_estimates
        on play_estimates.play_id = signals.play_id
    left join segment_estimates
        on segment_estimates.play_id = signals.play_id
        and segment_estimates.compound = signals.compound
        and segment_estimates.urgency = signals.urgency

)

select
    *,
    {{ round_to('conversion_probability * expected_amount', 2) }} as priority_score
from final
