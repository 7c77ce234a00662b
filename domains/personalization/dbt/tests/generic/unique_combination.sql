{#- The combination of ``columns`` is unique in the model: a composite key. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows
from {{ model }}
group by all
having count(*) > 1
{% endtest %}
