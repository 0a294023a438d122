{#- The owner of each account's expansion signals: the email of the role
    ownership_rules maps the account's segment to; when that role has no
    email, the first non-null of csm, account_manager, account_executive;
    else none (alerts go to the fallback channel). owner_role is the role
    whose email was used. -#}
with accounts as (

    select * from {{ ref('stg_accounts') }}

),

ownership_rules as (

    select * from {{ ref('ownership_rules') }}

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
        accounts.csm_email,
        accounts.account_manager_email,
        accounts.account_executive_email
    from accounts
    left join ownership_rules
        on ownership_rules.segment = accounts.segment

),

final as (

    select
        account_id,
        case
            when rule_owner_email is not null then rule_owner_role
            when csm_email is not null then 'csm'
            when account_manager_email is not null then 'account_manager'
            when account_executive_email is not null then 'account_executive'
        end as owner_role,
        coalesce(rule_owner_email, csm_email, account_manager_email, account_executive_email)
            as owner_email
    from rule_owners

)

select * from final
