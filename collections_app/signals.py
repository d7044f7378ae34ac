"""Stored files go with the rows that name them, once the deletion commits (a rollback
keeps both), however the row is deleted: one by one, in bulk, or by a cascade."""

from django.db.models.signals import post_delete
from django.dispatch import Signal, receiver

from .models import Collection, CollectionTrack, TrackVariant, delete_files_on_commit

# Sent once the change has committed (``transaction.on_commit``), for webhooks and the like:
# ``track_status_changed(sender=CollectionTrack, track=...)`` when a track's status changes;
# ``variant_created`` / ``variant_failed(sender=TrackVariant, variant=...)`` when a variant
# becomes ready / ends in error.
track_status_changed = Signal()
variant_created = Signal()
variant_failed = Signal()


@receiver(post_delete, sender=Collection)
@receiver(post_delete, sender=CollectionTrack)
@receiver(post_delete, sender=TrackVariant)
def delete_stored_files(sender, instance, **kwargs):
    delete_files_on_commit(instance.stored_file_names())
