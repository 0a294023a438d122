{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- executive_expansion fires when a CRM activity with an executive contact
    and a feature_inquiry event both fall in the 14 days ending d. -#}
with activity as (

    select * from {{ ref('int_account_activity_daily') }}
    where date_day >= {{ first_day }}

),

final as (

    select account_id, 'executive_expansion' as play_id, '' as product, date_day
    from activity
    where executive_activities_in_window > 0
        and feature_inquiries_in_window > 0

)

select * from final
