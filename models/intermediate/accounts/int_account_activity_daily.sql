{{ daily_panel_config() }}
{%- set first_day = incremental_first_day() %}

{#- Per account and day, the rolling counts of the low-volume sources that
    triggers and the health score read: outcomes, executive meetings,
    feature inquiries, NPS responses and open urgent tickets. -#}
with outcomes as (

    select * from {{ ref('stg_account_outcomes') }}

),

crm_activities as (

    select * from {{ ref('stg_crm_activities') }}

),

marketing_events as (

    select * from {{ ref('stg_marketing_events') }}

),

nps_responses as (

    select * from {{ ref('stg_nps_responses') }}

),

tickets as (

    select * from {{ ref('stg_support_tickets') }}

),

{%- set measures = ['outcomes_in_window', 'executive_activities_in_window', 'executive_activities_in_sentiment_window',
                    'feature_inquiries_in_window', 'nps_responses_in_window', 'nps_promoters_in_window',
                    'nps_detractors_in_window', 'open_urgent_tickets'] %}


intervals as (

    select account_id, achieved_on as counts_from,
        {{ add_days(var('expansion_outcome_window_days') - 1, 'achieved_on') }} as counts_to
        {{ measure_columns(measures, {'outcomes_in_window': 1}) }}
    from outcomes

    union all

    select account_id, occurred_on,
        {{ add_days(var('expansion_executive_window_days') - 1, 'occurred_on') }}
        {{ measure_columns(measures, {'executive_activities_in_window': 1}) }}
    from crm_activities
    where contact_is_executive

    union all

    select account_id, occurred_on,
        {{ add_days(var('expansion_health_executive_days') - 1, 'occurred_on') }}
        {{ measure_columns(measures, {'executive_activities_in_sentiment_window': 1}) }}
    from crm_activities
    where contact_is_executive

    union all

    select account_id, occurred_on,
        {{ add_days(var('expansion_executive_window_days') - 1, 'occurred_on') }}
        {{ measure_columns(measures, {'feature_inquiries_in_window': 1}) }}
    from marketing_events
    where event_type = 'feature_inquiry'

    union all

    select account_id, responded_on,
        {{ add_days(var('expansion_nps_window_days') - 1, 'responded_on') }}
        {{ measure_columns(measures, {'nps_responses_in_window': 1,
                'nps_promoters_in_window': as_int('score >= 9'),
                'nps_detractors_in_window': as_int('score <= 6')}) }}
    from nps_responses

    union all

    -- open on d: created on or before d, not yet resolved on d
    select account_id, created_on,
        case when resolved_on is not null then {{ add_days(-1, 'resolved_on') }} end
        {{ measure_columns(measures, {'open_urgent_tickets': 1}) }}
    from tickets
    where priority in ('urgent', 'high')
        and (resolved_on is null or resolved_on > created_on)

),

daily as (

    {{ running_sum('intervals', ['account_id'], 'counts_from', 'counts_to', measures, first_day) }}

),

final as (

    select
        *,
        case when nps_responses_in_window > 0
            then 100 * {{ safe_divide('nps_promoters_in_window - nps_detractors_in_window', 'nps_responses_in_window') }}
        end as nps
    from daily

)

select * from final
