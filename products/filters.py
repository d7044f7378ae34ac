import django_filters

from config.jsonapi.filters import CharInFilter, NumberInFilter

from .models import Label, Language, Product


class LanguageFilter(django_filters.FilterSet):
    id = CharInFilter(field_name="code")
    name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Language
        fields = {"name": ["icontains"]}


class LabelFilter(django_filters.FilterSet):
    id = NumberInFilter(field_name="id")

    class Meta:
        model = Label
        fields = {"name": ["exact", "icontains"]}


class ProductFilter(django_filters.FilterSet):
    id = NumberInFilter(field_name="id")
    label_id = django_filters.NumberFilter(field_name="label_id")
    status = django_filters.ChoiceFilter(choices=Product.Status.choices)

    class Meta:
        model = Product
        fields = {"name": ["exact", "icontains"], "upc_code": ["exact"]}
