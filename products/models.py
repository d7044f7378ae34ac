from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from config.models import NormalizedCharField, TimeStampedModel
from organizations.models import Organization

from .validators import normalize_upc, validate_upc


class Language(models.Model):
    """ISO 639 language: the 639-1 code where one exists, else the 639-3 code (catalog
    managers add codes pycountry lacks, such as the local-use range qaa-qtz).

    A retired language stays on the products and tracks that have it, but is not chosen
    again (``retired_language_error``), in the admin, the API and importers alike.
    """

    code = models.CharField(
        primary_key=True,
        max_length=3,
        validators=[
            RegexValidator(r"^[a-z]{2,3}\Z", "An ISO 639 code: two or three lower-case letters.")
        ],
    )
    name = models.CharField(max_length=150, db_index=True)
    retired = models.BooleanField(
        default=False, help_text="Kept where it is used, never chosen again."
    )

    organization_path = None  # reference data every organization shares

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"


def retired_language_error(instance, field_name):
    """A ValidationError when ``instance`` (a product or a track) newly chooses a retired
    language in ``field_name``, else None. The language is judged when it is at hand (set
    in this write by the API, a form or an importer), or when a new row names it by its
    code alone (a query); telling a new choice from the one stored costs a query, and only
    when the language is retired. A stored row's code changed alone is not judged."""
    field = instance._meta.get_field(field_name)
    if field.is_cached(instance):
        language = getattr(instance, field_name)
    elif instance._state.adding and getattr(instance, field.attname) is not None:
        code = getattr(instance, field.attname)
        try:
            field.target_field.clean(code, None)
        except ValidationError:
            return None  # no language's code: clean_fields' error, not a query's
        language = field.related_model._default_manager.filter(pk=code).first()
    else:
        return None  # not chosen in this write: the stored value stays as it may
    if language is None or not language.retired:
        return None
    if instance.pk is not None:
        stored = type(instance)._default_manager.filter(pk=instance.pk)
        if stored.filter(**{field.attname: language.pk}).exists():
            return None  # kept, not chosen
    return ValidationError(f"{language} is retired: choose another language.", "retired_language")


class Label(TimeStampedModel):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="labels")
    name = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)

    organization_path = "organization"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="label_name_unique_per_organization"
            ),
        ]

    def __str__(self):
        return self.name


class ProductStatus(models.TextChoices):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class ProductType(models.TextChoices):
    ALBUM = "album"
    SINGLE = "single"
    EP = "ep"
    COMPILATION = "compilation"


class Product(TimeStampedModel):
    Status = ProductStatus
    ProductType = ProductType

    name = models.CharField(max_length=255)
    upc_code = NormalizedCharField(
        "UPC code",
        max_length=13,
        unique=True,
        null=True,
        blank=True,
        normalizer=normalize_upc,
        validators=[validate_upc],
    )
    release_date = models.DateField(null=True, blank=True)
    copyright_line = models.CharField(max_length=255, null=True, blank=True)
    production_line = models.CharField(max_length=255, null=True, blank=True)
    production_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2999)]
    )
    status = models.CharField(
        max_length=10, choices=ProductStatus.choices, default=ProductStatus.DRAFT
    )
    product_type = models.CharField(
        max_length=12, choices=ProductType.choices, null=True, blank=True
    )
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="products")
    # Indexed below without the LIKE index Django adds for a text key (nothing matches a
    # pattern on a language's code; each index costs every product written).
    language = models.ForeignKey(
        Language, on_delete=models.PROTECT, related_name="products", db_index=False
    )

    organization_path = "label__organization"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_label_id = instance.__dict__.get("label_id")
        return instance

    def clean(self):
        """A product stays in its organization: its label may change to another label of
        the same organization only (its tracks' links would otherwise cross organizations).
        A label kept as it was read is one of its organization's (a label never moves).
        A retired language is not chosen again."""
        errors = {}
        if retired := retired_language_error(self, "language"):
            errors["language"] = retired
        kept = self.label_id == getattr(self, "_stored_label_id", None)
        if self.pk is not None and self.label_id is not None and not kept:
            same_organization = Label.objects.filter(
                pk=self.label_id, organization__labels__products=self.pk
            )
            if not same_organization.exists():
                message = "A product stays in its organization: choose one of its labels."
                errors["label"] = ValidationError(message, "foreign_label")
        if errors:
            raise ValidationError(errors)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["language"], name="product_language")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ProductStatus.values),
                name="product_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(product_type__in=ProductType.values)
                | models.Q(product_type__isnull=True),
                name="product_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(upc_code__regex=r"^[0-9]{12,13}$")
                | models.Q(upc_code__isnull=True),
                name="product_upc_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(production_year__gte=1900, production_year__lte=2999)
                | models.Q(production_year__isnull=True),
                name="product_production_year_range",
            ),
        ]

    def __str__(self):
        return self.name
