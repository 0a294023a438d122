{#- The buying signal categories of triggers.md, per account with an active
    line on as_of: pricing interest, feature inquiries, expansion content and
    new stakeholders in the CRM, all in the window ending as_of. -#}
{%- set d = as_of_date() -%}
{%- set window_days = var('expansion_signal_window_days') | int -%}

with accounts as (

    select * from {{ ref('int_as_of_accounts') }}

),

marketing_events as (

    select * from {{ ref('stg_marketing_events') }}
    where occurred_on >= {{ add_days(1 - window_days, d) }}

),

crm_activities as (

    select * from {{ ref('stg_crm_activities') }}

),

buying as (

    select
        account_id,
        max({{ as_int("event_type in ('pricing_page_view', 'tier_comparison_view')") }}) as pricing_interest,
        max({{ as_int("event_type = 'feature_inquiry'") }}) as feature_inquiry,
        max({{ as_int("event_type in ('webinar_attended', 'expansion_content_view')") }}) as expansion_content
    from marketing_events
    group by account_id

),

-- the same person writes their address in different cases
recent_contacts as (

    select distinct account_id, lower(contact_email) as contact_email
    from crm_activities
    where contact_email is not null
        and occurred_on >= {{ add_days(1 - window_days, d) }}

),

earlier_contacts as (

    select distinct account_id, lower(contact_email) as contact_email
    from crm_activities
    where contact_email is not null
        and occurred_on >= {{ add_days(1 - window_days - var('expansion_new_stakeholder_lookback_days'), d) }}
        and occurred_on < {{ add_days(1 - window_days, d) }}

),

new_stakeholders as (

    select distinct recent_contacts.account_id
    from recent_contacts
    left join earlier_contacts
        on earlier_contacts.account_id = recent_contacts.account_id
        and earlier_contacts.contact_email = recent_contacts.contact_email
    where earlier_contacts.account_id is null

),

final as (

    select
        accounts.account_id,
        coalesce(buying.pricing_interest = 1, false) as buying_pricing_interest,
        coalesce(buying.feature_inquiry = 1, false) as buying_feature_inquiry,
        coalesce(buying.expansion_content = 1, false) as buying_expansion_content,
        new_stakeholders.account_id is not null as buying_new_stakeholders
    from accounts
    left join buying on buying.account_id = accounts.account_id
    left join new_stakeholders on new_stakeholders.account_id = accounts.account_id

)

select * from final
