{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- post_renewal_expansion fires for a product when a line started in the 30
    days ending d the day after the end_date of another, never-cancelled line
    of the same account and product, and the account's NPS over the 180
    days ending d is 50 or more. -#}
with lines as (

    select * from {{ ref('int_subscription_lines') }}

),

activity as (

    select * from {{ ref('int_account_activity_daily') }}
    where nps >= {{ var('expansion_post_renewal_min_nps') }}
        and date_day >= {{ first_day }}

),

renewals as (

    select distinct renewal.account_id, renewal.product, renewal.start_date
    from lines as renewal
    inner join lines as renewed
        on renewed.account_id = renewal.account_id
        and renewed.product = renewal.product
        and renewed.subscription_id <> renewal.subscription_id
        and renewed.cancelled_on is null
        and {{ add_days(1, 'renewed.end_date') }} = renewal.start_date

),

final as (

    select distinct
        renewals.account_id,
        'post_renewal_expansion' as play_id,
        renewals.product,
        activity.date_day
    from renewals
    inner join activity
        on activity.account_id = renewals.account_id
        and activity.date_day >= renewals.start_date
        and activity.date_day <= {{ add_days(var('expansion_renewal_window_days') - 1, 'renewals.start_date') }}

)

select * from final
