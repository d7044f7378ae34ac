import django_filters

from config.jsonapi.filters import (
    CharInFilter,
    IntegerFilter,
    IntegerInFilter,
    StrictBooleanFilter,
)

from .models import Label, Language, Product
from .validators import normalize_upc


class LanguageFilter(django_filters.FilterSet):
    id = CharInFilter(field_name="code")
    name = django_filters.CharFilter(lookup_expr="iexact")
    retired = StrictBooleanFilter()

    class Meta:
        model = Language
        fields = {"name": ["icontains"]}


class LabelFilter(django_filters.FilterSet):
    id = IntegerInFilter(field_name="id")

    class Meta:
        model = Label
        fields = {"name": ["exact", "icontains"]}


class ProductFilter(django_filters.FilterSet):
    id = IntegerInFilter(field_name="id")
    label_id = IntegerFilter(field_name="label_id")
    upc_code = django_filters.CharFilter(method="filter_upc")
    status = django_filters.ChoiceFilter(choices=Product.Status.choices)

    class Meta:
        model = Product
        fields = {"name": ["exact", "icontains"]}

    def filter_upc(self, queryset, name, value):
        return queryset.filter(upc_code=normalize_upc(value))
