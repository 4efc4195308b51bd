"""Background work for documents, through Django's Tasks API (django-tasks).

`kaohe worker` runs the database backend's worker; tests run tasks immediately.
"""

from django_tasks import task

from kaohe.documents import services


@task()
def run_export_task(export_id: int):
    try:
        services.purge_expired()
        services.run_export(export_id)
    except Exception:
        # Whatever broke, the page stops showing "queued" and says it failed.
        services.mark_failed(export_id)
        raise
