{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- tier_upgrade fires when the current tier is not the product's top tier and
    either limit utilization reaches the warning level (0.70) or there were
    3+ events on gated features in the 30 days ending d. -#}
with limits as (

    select * from {{ ref('int_limit_utilization_daily') }}
    where date_day >= {{ first_day }}

),

final as (

    select account_id, 'tier_upgrade' as play_id, product, date_day
    from limits
    where below_top_tier
        and (limit_utilization >= {{ var('expansion_limit_warning') }} or has_feature_gap)

)

select * from final
