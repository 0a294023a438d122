{#- Features included in each tier of each product (seed tier_features), as a
    relation body: product, plan_tier, feature_count. -#}
{% macro tier_feature_counts() -%}
    select product, plan_tier, count(*) as feature_count
    from {{ ref('tier_features') }}
    group by product, plan_tier
{%- endmacro %}
