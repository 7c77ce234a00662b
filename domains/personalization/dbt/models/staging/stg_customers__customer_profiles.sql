select customer_id, birth_year, city, country, signup_date, marketing_opt_in
from {{ source('customers', 'customer_profiles') }}
