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
        'usage_efficiency',
        'seat_true_up',
    ]) -}}
{%- endmacro %}


{#- The registry as rows (play_id), for joins against the plays seed. -#}
{% macro play_registry_rows() -%}
    {% for play in play_ids() -%}
    select cast('{{ play }}' as {{ dbt.type_string() }}) as play_id
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
{%- endmacro %}


{#- The column holds a play of the registry (nulls pass unless not_null is
    also set). Failing rows carry the row's key and the unknown play. -#}
{% test is_registered_play(model, column_name, key) %}
{{ test_value_in(model, column_name, play_ids(), key) }}
{% endtest %}


{#- Every play of the seed is one the engine knows (play_ids()). A failing
    row names the unknown play; a registry play missing from the seed is not
    an error but a play that is off. -#}
{% test matches_play_registry(model, column_name) %}
with registry as (
    {{ play_registry_rows() }}
),

catalog as (
    select cast({{ column_name }} as {{ dbt.type_string() }}) as play_id from {{ model }}
)

select
    catalog.play_id as failing_value,
    'the plays seed names a play the engine does not know; known plays: {{ play_ids() | join(", ") }}'
        as problem
from catalog
left join registry on registry.play_id = catalog.play_id
where registry.play_id is null
{% endtest %}
