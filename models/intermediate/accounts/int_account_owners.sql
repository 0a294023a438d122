{#- Who does what on each account's expansion signals (RACI).

    Accountable (owner_role, owner_email): the email of the role
    ownership_rules maps the account's segment to; when that role has no
    email, the first non-null of csm, account_manager, account_executive;
    else none (alerts go to the fallback channel). The quota rule: a CSM
    whose segment carries no expansion quota (csm_has_quota; default true
    for mid_market, false elsewhere) is never accountable while an account
    manager or account executive email exists.

    Responsible (responsible_role, responsible_email): who makes the first
    move, the segment's responsible_role when it has an email on the
    account, else the accountable owner. Both optional seed columns may be
    left out of the seed. -#}
with accounts as (

    select * from {{ ref('stg_accounts') }}

),

ownership_rules as (

    select
        segment,
        expansion_owner_role,
        {{ optional_seed_column('ownership_rules', 'responsible_role', dbt.type_string()) }}
            as responsible_role,
        {{ optional_seed_column('ownership_rules', 'csm_has_quota', dbt.type_boolean()) }}
            as csm_has_quota
    from {{ ref('ownership_rules') }}

),

rule_owners as (

    select
        accounts.account_id,
        case ownership_rules.expansion_owner_role
            when 'csm' then accounts.csm_email
            when 'account_manager' then accounts.account_manager_email
            when 'account_executive' then accounts.account_executive_email
        end as rule_owner_email,
        ownership_rules.expansion_owner_role as rule_owner_role,
        ownership_rules.responsible_role,
        case ownership_rules.responsible_role
            when 'csm' then accounts.csm_email
            when 'account_manager' then accounts.account_manager_email
            when 'account_executive' then accounts.account_executive_email
        end as rule_responsible_email,
        -- a CSM can be accountable with quota, or when nobody with quota is on the account
        coalesce(ownership_rules.csm_has_quota, accounts.segment = 'mid_market')
            or (accounts.account_manager_email is null and accounts.account_executive_email is null)
            as csm_can_own,
        accounts.csm_email,
        accounts.account_manager_email,
        accounts.account_executive_email
    from accounts
    left join ownership_rules
        on ownership_rules.segment = accounts.segment

),

accountable as (

    select
        *,
        case
            when rule_owner_email is not null and (rule_owner_role <> 'csm' or csm_can_own)
                then rule_owner_role
            when csm_email is not null and csm_can_own then 'csm'
            when account_manager_email is not null then 'account_manager'
            when account_executive_email is not null then 'account_executive'
        end as owner_role
    from rule_owners

),

owners as (

    select
        *,
        case owner_role
            when 'csm' then csm_email
            when 'account_manager' then account_manager_email
            when 'account_executive' then account_executive_email
        end as owner_email
    from accountable

),

final as (

    select
        account_id,
        owner_role,
        owner_email,
        case when rule_responsible_email is not null then responsible_role else owner_role end
            as responsible_role,
        coalesce(rule_responsible_email, owner_email) as responsible_email
    from owners

)

select * from final
