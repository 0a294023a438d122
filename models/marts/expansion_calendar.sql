{#- The expansion calendar: six touches of each account's contract year, in
    place of one renewal conversation. One row per account with an active
    line on as_of and touch.

    The contract year starts with the account's current line: of its lines
    active on as_of, the one it renews first (the earliest end_date; the
    latest start among equals). Each touch is due a number of months after
    that start: the post-renewal check-in (1), the first outcome review (3),
    the mid-cycle business review (6), budget planning (9; or 90 days before
    the customer's first fiscal year start more than 90 days after the
    contract start, when its fiscal_year_start_month is known), renewal planning (11: renewal terms
    only, no expansion ask) and the post-renewal expansion conversation (13).
    A touch is done when the account had a CRM activity (meeting, call,
    email) in the month ending on its due date, on or before as_of; the next
    touch is the first one not done whose due date is on or after as_of. -#}
{%- set d = as_of_date() -%}
{%- set touches = [
    ('post_renewal_check_in', 1),
    ('outcome_review', 3),
    ('business_review', 6),
    ('budget_planning', 9),
    ('renewal_planning', 11),
    ('post_renewal_expansion', 13),
] -%}

with lines as (

    select * from {{ ref('int_subscription_lines') }}
    where start_date <= {{ d }}
        and last_active_date >= {{ d }}

),

accounts as (

    select * from {{ ref('stg_accounts') }}

),

owners as (

    select * from {{ ref('int_account_owners') }}

),

activities as (

    select account_id, occurred_on from {{ ref('stg_crm_activities') }}

),

ranked_lines as (

    select
        account_id,
        start_date,
        end_date,
        row_number() over (
            partition by account_id order by end_date, start_date desc, subscription_id
        ) as renewal_order
    from lines

),

contract_years as (

    select
        ranked_lines.account_id,
        accounts.account_name,
        ranked_lines.start_date as contract_start,
        {{ add_days(1, 'ranked_lines.end_date') }} as renewal_date,
        accounts.fiscal_year_start_month
    from ranked_lines
    inner join accounts
        on accounts.account_id = ranked_lines.account_id
    where ranked_lines.renewal_order = 1

),

fiscal_years as (

    select
        account_id,
        contract_start,
        cast({{ dbt.dateadd('month', 'fiscal_year_start_month - 1', dbt.date_trunc('year', 'contract_start')) }} as date)
            as fiscal_start_that_year
    from contract_years
    where fiscal_year_start_month between 1 and 12

),

-- the customer's first fiscal year start whose planning (90 days before it)
-- falls after the contract start
next_fiscal_years as (

    select
        account_id,
        case
            when fiscal_start_that_year > {{ add_days(90, 'contract_start') }} then fiscal_start_that_year
            else cast({{ dbt.dateadd('month', 12, 'fiscal_start_that_year') }} as date)
        end as next_fiscal_start
    from fiscal_years

),

touches as (

    {% for touch, month in touches %}
    select
        contract_years.account_id,
        contract_years.account_name,
        cast('{{ touch }}' as {{ dbt.type_string() }}) as touch,
        {{ loop.index }} as touch_order,
        {{ month }} as contract_month,
        contract_years.contract_start,
        contract_years.renewal_date,
        {% if touch == 'budget_planning' -%}
        coalesce(
            {{ add_days(-90, 'next_fiscal_years.next_fiscal_start') }},
            cast({{ dbt.dateadd('month', month, 'contract_years.contract_start') }} as date)
        ) as due_on
        {%- else -%}
        cast({{ dbt.dateadd('month', month, 'contract_years.contract_start') }} as date) as due_on
        {%- endif %}
    from contract_years
    left join next_fiscal_years
        on next_fiscal_years.account_id = contract_years.account_id
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

windows as (

    select
        *,
        cast({{ dbt.dateadd('month', -1, 'due_on') }} as date) as window_start
    from touches

),

done as (

    select distinct windows.account_id, windows.touch
    from windows
    inner join activities
        on activities.account_id = windows.account_id
        and activities.occurred_on >= windows.window_start
        and activities.occurred_on <= windows.due_on
        and activities.occurred_on <= {{ d }}

),

with_status as (

    select
        windows.*,
        done.touch is not null as is_done
    from windows
    left join done
        on done.account_id = windows.account_id
        and done.touch = windows.touch

),

next_touches as (

    select account_id, min(touch_order) as next_touch_order
    from with_status
    where not is_done
        and due_on >= {{ d }}
    group by account_id

),

final as (

    select
        with_status.account_id,
        cast(with_status.account_name as {{ dbt.type_string() }}) as account_name,
        cast(with_status.touch as {{ dbt.type_string() }}) as touch,
        cast(with_status.touch_order as {{ dbt.type_int() }}) as touch_order,
        cast(with_status.contract_month as {{ dbt.type_int() }}) as contract_month,
        with_status.contract_start,
        with_status.renewal_date,
        with_status.window_start,
        with_status.due_on,
        with_status.is_done,
        coalesce(with_status.touch_order = next_touches.next_touch_order, false) as is_next,
        {{ d }} as as_of,
        cast(owners.owner_email as {{ dbt.type_string() }}) as owner_email,
        cast(owners.responsible_email as {{ dbt.type_string() }}) as responsible_email
    from with_status
    left join next_touches
        on next_touches.account_id = with_status.account_id
    left join owners
        on owners.account_id = with_status.account_id

)

select * from final
