"""Model building blocks shared by the apps."""

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class NormalizedCharField(models.CharField):
    """A code stored in canonical form (an ISRC without hyphens, a UPC without spaces).

    ``normalizer`` runs on the validated input paths: forms and ``full_clean`` through
    ``to_python``, the API through the serializer field ``ResourceSerializer`` builds for
    it. Code that saves through the ORM directly must pass codes already normalised.
    """

    def __init__(self, *args, normalizer=None, **kwargs):
        self.normalizer = normalizer
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.normalizer is not None:
            kwargs["normalizer"] = self.normalizer
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        # The limit applies to the normalised code, not to what a person types
        # ("0360 0029 1452"); the model's own max-length validator still checks it.
        return super().formfield(**{"max_length": None, **kwargs})

    def to_python(self, value):
        value = super().to_python(value)
        if value and self.normalizer is not None:
            return self.normalizer(value)
        return value


class CacheEntry(models.Model):
    """The table of the database cache (settings.CACHES), so that ``migrate`` creates it.

    Django's ``createcachetable`` would be one more deploy step, run separately in every
    environment and test database; as a model the table comes with the migrations. Only
    the cache reads and writes it (config/cache.py), with the columns Django's expects.
    """

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "django_cache"
        default_permissions = ()
        verbose_name_plural = "cache entries"

    def __str__(self):
        return self.cache_key


class UploadReceipt(models.Model):
    """An upload target that has received, or is receiving, its file (config/uploads.py).

    The primary key is the target's nonce: the database lets one upload claim it, so a
    second upload to the same target, even a concurrent one, is refused.
    """

    nonce = models.CharField(max_length=32, primary_key=True)
    purpose = models.CharField(max_length=50)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"{self.purpose} upload {self.nonce}"
