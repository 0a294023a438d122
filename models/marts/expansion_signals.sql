{#- One row per signal key firing on as_of: the play, its episode and id,
    urgency, close path, owner and SLA, and the evidence that made it fire.
    This is what the sync writes to Salesforce and Slack. The rules live
    upstream: urgency and close path in int_signal_urgency, the owner in
    int_account_owners, the evidence in int_signal_evidence, the expected
    value in int_signal_priority; here only the rank in the owner's queue,
    who else is told (informed_emails: the play's informed_roles on the
    account, other than the accountable and responsible owners), and the
    renewal-planning hold (held_until: a signal that is not high, firing
    between the account's renewal-planning touch and its renewal, waits for
    the renewal before its alert and Task). -#}
{%- set roles = ['csm', 'account_manager', 'account_executive'] -%}
{%- set d = as_of_date() -%}

with episodes as (

    select * from {{ ref('int_signal_episodes') }}
    where last_fired_on = {{ d }}

),

accounts as (

    select * from {{ ref('stg_accounts') }}

),

plays as (

    select * from {{ ref('int_plays') }}

),

urgency as (

    select * from {{ ref('int_signal_urgency') }}

),

owners as (

    select * from {{ ref('int_account_owners') }}

),

evidence as (

    select * from {{ ref('int_signal_evidence') }}

),

priority as (

    select * from {{ ref('int_signal_priority') }}

),

renewal_planning as (

    select account_id, due_on as hold_from, renewal_date
    from {{ ref('expansion_calendar') }}
    where touch = 'renewal_planning'

),

informed_people as (

    select distinct episodes.signal_id, people.email
    from episodes
    inner join plays
        on plays.play_id = episodes.play_id
    inner join owners
        on owners.account_id = episodes.account_id
    inner join (
        {% for role in roles %}
        select account_id, '{{ role }}' as role, {{ role }}_email as email from accounts
        {% if not loop.last %}union all{% endif %}
        {% endfor %}
    ) as people
        on people.account_id = episodes.account_id
    where people.email is not null
        and {{ dbt.concat(["';'", "replace(plays.informed_roles, ' ', '')", "';'"]) }}
            like {{ dbt.concat(["'%;'", 'people.role', "';%'"]) }}
        and lower(people.email) <> lower(coalesce(owners.owner_email, ''))
        and lower(people.email) <> lower(coalesce(owners.responsible_email, ''))

),

informed as (

    select
        signal_id,
        {{ dbt.listagg('email', "';'", 'order by email') }} as informed_emails
    from informed_people
    group by signal_id

),

assembled as (

    select
        cast(episodes.signal_id as {{ dbt.type_string() }}) as signal_id,
        cast(episodes.account_id as {{ dbt.type_string() }}) as account_id,
        cast(accounts.crm_account_id as {{ dbt.type_string() }}) as crm_account_id,
        cast(accounts.account_name as {{ dbt.type_string() }}) as account_name,
        cast(episodes.play_id as {{ dbt.type_string() }}) as play_id,
        cast(plays.motion as {{ dbt.type_string() }}) as motion,
        cast(episodes.product as {{ dbt.type_string() }}) as product,
        cast(episodes.episode_start as date) as episode_start,
        {{ d }} as as_of,
        cast(urgency.urgency as {{ dbt.type_string() }}) as urgency,
        cast(urgency.close_path as {{ dbt.type_string() }}) as close_path,
        cast(owners.owner_role as {{ dbt.type_string() }}) as owner_role,
        cast(owners.owner_email as {{ dbt.type_string() }}) as owner_email,
        cast(owners.responsible_role as {{ dbt.type_string() }}) as responsible_role,
        cast(owners.responsible_email as {{ dbt.type_string() }}) as responsible_email,
        {{ add_days('plays.sla_days', 'episodes.episode_start') }}
            as sla_due_on,
        cast(urgency.signal_count as {{ dbt.type_int() }}) as signal_count,
        cast(urgency.signal_categories as {{ dbt.type_int() }}) as signal_categories,
        cast(urgency.compound as {{ dbt.type_boolean() }}) as compound,
        cast(urgency.days_to_renewal as {{ dbt.type_int() }}) as days_to_renewal,
        cast(evidence.evidence as {{ dbt.type_string() }}) as evidence,
        cast(priority.priority_score as {{ type_double() }}) as priority_score,
        cast(informed.informed_emails as {{ dbt.type_string() }}) as informed_emails,
        case
            when urgency.urgency <> 'high'
                and {{ d }} >= renewal_planning.hold_from
                and {{ d }} < renewal_planning.renewal_date
                then renewal_planning.renewal_date
        end as held_until
    from episodes
    inner join plays
        on plays.play_id = episodes.play_id
    inner join urgency
        on urgency.account_id = episodes.account_id
        and urgency.play_id = episodes.play_id
        and urgency.product = episodes.product
    inner join accounts
        on accounts.account_id = episodes.account_id
    inner join owners
        on owners.account_id = episodes.account_id
    left join evidence
        on evidence.account_id = episodes.account_id
        and evidence.play_id = episodes.play_id
        and evidence.product = episodes.product
    inner join priority
        on priority.account_id = episodes.account_id
        and priority.play_id = episodes.play_id
        and priority.product = episodes.product
    left join informed
        on informed.signal_id = episodes.signal_id
    left join renewal_planning
        on renewal_planning.account_id = episodes.account_id

),

-- an owner's queue: the highest expected value first, then the more urgent,
-- then the longer standing
final as (

    select
        *,
        cast(row_number() over (
            partition by owner_email
            order by priority_score desc, {{ urgency_order('urgency') }}, episode_start, signal_id
        ) as {{ dbt.type_int() }}) as priority_rank
    from assembled

)

select * from final
