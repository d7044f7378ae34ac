"""Keep tracks' audio summary and the stored files in step with records."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Record, Track


@receiver(post_save, sender=Record)
def record_saved(sender, instance, **kwargs):
    instance.track.refresh_audio_summary()


@receiver(post_delete, sender=Record)
def record_deleted(sender, instance, **kwargs):
    storage, name = instance.file.storage, instance.file.name
    # Delete the file only once the deletion is committed: a rollback keeps both.
    transaction.on_commit(lambda: storage.delete(name))
    if Track.objects.filter(pk=instance.track_id).exists():
        Track(pk=instance.track_id).refresh_audio_summary()
