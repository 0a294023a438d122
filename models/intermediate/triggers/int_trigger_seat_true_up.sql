{{ daily_panel_config(window_start=history_start()) }}
{%- set first_day = incremental_first_day(history_start_iso()) %}

{#- seat_true_up fires for (account, product) with seat lines when assigned
    seats / seats purchased >= 0.90 on d (seats purchased > 0), for an account
    of a self-serve segment (var expansion_true_up_segments, default smb): the
    low-touch one-click seat link. -#}
{%- set segments = var('expansion_true_up_segments') -%}
{%- set segments = [segments] if segments is string else (segments or []) -%}

with limits as (

    select * from {{ ref('int_limit_utilization_daily') }}
    where has_seat_line
        and date_day >= {{ first_day }}

),

accounts as (

    select account_id, segment from {{ ref('stg_accounts') }}

),

final as (

    select limits.account_id, 'seat_true_up' as play_id, limits.product, limits.date_day
    from limits
    inner join accounts
        on accounts.account_id = limits.account_id
    where {% if segments -%}
        accounts.segment in (
            {%- for segment in segments %}'{{ segment }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        )
        {%- else -%}
        1 = 0  -- no segment takes the seat link
        {%- endif %}
        and limits.seats_purchased > 0
        and limits.seat_utilization >= {{ var('expansion_true_up_seat_utilization') }}

)

select * from final
