{#-
    Apache Spark with its own table formats (parquet, as dbt-spark creates
    them) has no DELETE and no MERGE: a table is rewritten whole or by
    partition. These macros give the project's two row-level operations,
    "replace the rows of these keys" (incremental_strategy='delete+insert')
    and "drop the rows outside the window" (delete_rows, the panels'
    post-hook), the same results there. Each keeps the rows it must into a
    scratch table first, because Spark cannot overwrite a table while it
    reads it. Databricks (Delta) and every other adapter keep their own
    DELETE.
-#}

{#- `delete from relation where condition`, as a hook. -#}
{% macro delete_rows(relation, condition) -%}
    {{ return(adapter.dispatch('delete_rows')(relation, condition)) }}
{%- endmacro %}

{% macro default__delete_rows(relation, condition) -%}
    delete from {{ relation }} where {{ condition }}
{%- endmacro %}

{% macro spark__delete_rows(relation, condition) -%}
    {%- if execute -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='quoted') | join(', ') -%}
        {%- do spark_rewrite(relation,
            "select " ~ columns ~ " from " ~ relation ~ " where not coalesce(" ~ condition ~ ", false)") -%}
    {%- endif -%}
    {#- nothing left for the hook to run -#}
{%- endmacro %}

{#- Rewrite `relation` with the rows of `select_sql` (which may read it). -#}
{% macro spark_rewrite(relation, select_sql) -%}
    {%- set scratch = relation.incorporate(path={"identifier": relation.identifier ~ '__dbt_keep'}) -%}
    {%- do run_query("drop table if exists " ~ scratch) -%}
    {%- do run_query("create table " ~ scratch ~ " using parquet as " ~ select_sql) -%}
    {%- do run_query("insert overwrite table " ~ relation ~ " select * from " ~ scratch) -%}
    {%- do run_query("drop table if exists " ~ scratch) -%}
{%- endmacro %}

{#- dbt-spark's own checks, with delete+insert accepted for every file format. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy not in ['append', 'merge', 'insert_overwrite', 'microbatch', 'delete+insert'] -%}
        {%- do exceptions.raise_compiler_error("Invalid incremental strategy provided: " ~ raw_strategy
            ~ "; expected one of: 'append', 'merge', 'insert_overwrite', 'microbatch', 'delete+insert'") -%}
    {%- endif -%}
    {%- if raw_strategy == 'merge' and file_format not in ['delta', 'iceberg', 'hudi'] -%}
        {%- do exceptions.raise_compiler_error("Invalid incremental strategy provided: merge; "
            ~ "only with file_format 'delta', 'iceberg' or 'hudi'") -%}
    {%- endif -%}
    {%- if raw_strategy in ['insert_overwrite', 'microbatch'] and target.endpoint -%}
        {%- do exceptions.raise_compiler_error("Invalid incremental strategy provided: " ~ raw_strategy
            ~ "; not when connecting via endpoint: use 'append' or 'merge'") -%}
    {%- endif -%}
    {%- do return(raw_strategy) -%}
{% endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) %}
    {%- if strategy == 'delete+insert' -%}
        {{- spark_delete_insert(source, target, unique_key) -}}
    {%- else -%}
        {{- dbt_spark.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -}}
    {%- endif -%}
{% endmacro %}

{#- The new rows (the temporary view `source`, which may read `target`) are
    stored first; then `target` becomes its rows whose key is not among
    them, plus them. Returns the statement that leaves the scratch table. -#}
{% macro spark_delete_insert(source, target, unique_key) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | join(', ') -%}
    {%- set fresh = target.incorporate(path={"identifier": target.identifier ~ '__dbt_new'}) -%}
    {%- do run_query("drop table if exists " ~ fresh) -%}
    {%- do run_query("create table " ~ fresh ~ " using parquet as select " ~ columns ~ " from " ~ source) -%}
    {%- set matches = [] -%}
    {%- for key in keys -%}
        {%- do matches.append("kept." ~ key ~ " <=> fresh." ~ key) -%}
    {%- endfor -%}
    {%- do spark_rewrite(target,
        "select " ~ columns ~ " from " ~ target ~ " as kept left anti join " ~ fresh
        ~ " as fresh on " ~ (matches | join(' and '))
        ~ " union all select " ~ columns ~ " from " ~ fresh) -%}
    drop table if exists {{ fresh }}
{%- endmacro %}

{#- dbt-spark's listagg ignores its order: collect (order, value) pairs, sort
    them, keep the values. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set order = (order_by_clause or '') | trim -%}
    {%- if order[:8] | lower == 'order by' -%}{%- set order = order[8:] | trim -%}{%- endif -%}
    {%- set descending = order[-5:] | lower == ' desc' -%}
    {%- if descending -%}{%- set order = order[:-5] -%}{%- elif order[-4:] | lower == ' asc' -%}{%- set order = order[:-4] -%}{%- endif -%}
    {%- set collected -%}
        transform(sort_array(collect_list(struct({{ order or measure }} as o, {{ measure }} as v)), {{ 'false' if descending else 'true' }}), s -> s.v)
    {%- endset -%}
    {%- if limit_num -%}{%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}{%- endif -%}
    array_join({{ collected }}, {{ delimiter_text }})
{%- endmacro %}

{#- dbt-spark's session seed loader quotes each value without escaping it, so
    an apostrophe in a seed (plays.csv has them) breaks the insert and an
    empty cell loads as the text 'None'. The values go in as escaped
    literals instead. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set type = column_override.get(agate_table.column_names[loop.index0], adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark_literal(value) }} as {{ type }}){%- if not loop.last %}, {% endif -%}
                {%- endfor -%}){%- if not loop.last %},{% endif %}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{% macro spark_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is boolean -%}{{ 'true' if value else 'false' }}
    {%- elif value is number -%}{{ value }}
    {%- else -%}'{{ (value | string) | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{#- dbt-spark sets NOT NULL constraints assuming Delta when no file_format
    is configured, while its materializations default to parquet, which
    cannot hold them. The contract's not_null columns are data tests too. -#}
{% macro spark__persist_constraints(relation, model) %}
    {%- if config.get('file_format', 'parquet') == 'delta' -%}
        {%- do dbt_spark.spark__persist_constraints(relation, model) -%}
    {%- endif -%}
{% endmacro %}
