{#- The play registry: every play the engine evaluates, in one list. Each has
    a trigger model int_trigger_<play_id> and a row in the plays seed (its
    motion, SLA and collateral); the test matches_play_registry on the seed
    fails when the two disagree. Adding a play: its trigger model, its seed
    row, and its name here. -#}
{% macro play_ids() -%}
    {{- return([
        'seat_expansion',
        'departmental_expansion',
        'consumption_commit',
        'tier_upgrade',
        'feature_attach',
        'outcome_cross_sell',
        'bu_rollout',
        'executive_expansion',
        'post_renewal_expansion',
    ]) -}}
{%- endmacro %}


{#- The column holds a play of the registry (nulls pass unless not_null is
    also set). Failing rows carry the row's key and the unknown play. -#}
{% test is_registered_play(model, column_name, key) %}
{{ test_value_in(model, column_name, play_ids(), key) }}
{% endtest %}


{#- The plays seed and the registry hold the same plays: a failing row is a
    play of the seed missing from play_ids(), or one of play_ids() missing
    from the seed. -#}
{% test matches_play_registry(model, column_name) %}
with registry as (
    {% for play in play_ids() -%}
    select cast('{{ play }}' as {{ dbt.type_string() }}) as play_id
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

catalog as (
    select cast({{ column_name }} as {{ dbt.type_string() }}) as play_id from {{ model }}
)

select catalog.play_id as failing_value, 'in the seed, not in play_ids()' as problem
from catalog
left join registry on registry.play_id = catalog.play_id
where registry.play_id is null

union all

select registry.play_id, 'in play_ids(), not in the seed'
from registry
left join catalog on catalog.play_id = registry.play_id
where catalog.play_id is null
{% endtest %}
