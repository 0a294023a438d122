{#- One row per threshold the backtest can sweep: the value this warehouse
    was built with (dbt_project.yml, or --vars at build time), so the
    backtest's "default" is what the engine fires on today and the --vars it
    proposes change exactly these. The conversion window and cooldown the
    backtest measures with, and the compound rule, come along. -#}
{%- set thresholds = [
    ('expansion_seat_utilization_threshold', 'seat_expansion'),
    ('expansion_seat_sustained_days', 'seat_expansion'),
    ('expansion_consumption_ratio_threshold', 'consumption_commit'),
    ('expansion_consumption_months', 'consumption_commit'),
    ('expansion_limit_warning', 'tier_upgrade'),
    ('expansion_feature_gap_min_events', 'tier_upgrade'),
    ('expansion_attach_adoption_shift', 'feature_attach'),
    ('expansion_conversion_window_days', ''),
    ('expansion_cooldown_days', ''),
    ('expansion_compound_min_signals', ''),
    ('expansion_compound_min_categories', ''),
] -%}

with final as (

    {% for name, play in thresholds %}
    select
        cast('{{ name }}' as {{ dbt.type_string() }}) as parameter,
        cast('{{ play }}' as {{ dbt.type_string() }}) as play_id,
        cast({{ var(name) }} as {{ type_double() }}) as value,
        {{ as_of_date() }} as as_of
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
