"""Stored files go with the rows that name them, once the deletion commits (a rollback
keeps both), however the row is deleted: one by one, in bulk, or by a cascade."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Collection, CollectionTrack, delete_files_on_commit


@receiver(post_delete, sender=Collection)
@receiver(post_delete, sender=CollectionTrack)
def delete_stored_files(sender, instance, **kwargs):
    delete_files_on_commit(instance.stored_file_names())
