select
    cast(customer_id as bigint) as customer_id,
    trim(first_name) as first_name,
    trim(last_name) as last_name,
    lower(trim(email)) as email,
    cast(birth_date as date) as birth_date,
    trim(city) as city,
    upper(trim(country)) as country,
    cast(signup_date as date) as signup_date,
    cast(marketing_opt_in as boolean) as marketing_opt_in
from {{ source('raw', 'crm_customers') }}
