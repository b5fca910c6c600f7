"""Hooks for the apps that attach files (platform apps never import them).

`file_ready` is sent once a stored image's processing has committed: the file is `ready` and
its variants exist. Arguments: `sender=StoredFile`, `file_id`, `purpose`. Receivers run after
the commit, in whichever process did the work (a Celery worker, or the web process when tasks
run eagerly); an app that shows the file (a cached page, a search index) refreshes it there.
"""

from __future__ import annotations

from django.dispatch import Signal

file_ready = Signal()
