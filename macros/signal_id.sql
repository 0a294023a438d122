{#- signal_id = md5(account_id || '|' || play_id || '|' || product || '|' || episode_start),
    episode_start as YYYY-MM-DD text, lower-case hex (triggers.md). -#}
{% macro signal_id(account_id, play_id, product, episode_start) -%}
    lower({{ dbt.hash(dbt.concat([
        account_id, "'|'", play_id, "'|'", "coalesce(" ~ product ~ ", '')", "'|'", date_text(episode_start)
    ])) }})
{%- endmacro %}
