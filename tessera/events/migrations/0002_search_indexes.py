"""Discovery's text indexes, on PostgreSQL only (SQLite searches with LIKE).

- `event_search_idx`: GIN over the same `to_tsvector('simple', title || ' ' || description)`
  expression the discovery query uses (`selectors.SEARCH_VECTOR`), so the planner can match
  it;
- `event_title_trgm_idx`: GIN trigram index (pg_trgm) on the title, for word similarity
  (`%>`), the fallback that still finds a misspelt or partial word.

Both are partial on public, published events, like the other discovery indexes.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

DISCOVERABLE = "status = 'published' AND visibility = 'public'"
SEARCH = (
    "to_tsvector('simple'::regconfig, COALESCE(title, '') || ' ' || COALESCE(description, ''))"
)
CREATE = [
    (
        f"CREATE INDEX IF NOT EXISTS event_search_idx ON events_event USING gin (({SEARCH})) "
        f"WHERE {DISCOVERABLE}"
    ),
    (
        "CREATE INDEX IF NOT EXISTS event_title_trgm_idx ON events_event "
        f"USING gin (title gin_trgm_ops) WHERE {DISCOVERABLE}"
    ),
]
DROP = ["DROP INDEX IF EXISTS event_search_idx", "DROP INDEX IF EXISTS event_title_trgm_idx"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]

    operations = [
        TrigramExtension(),  # CREATE EXTENSION IF NOT EXISTS pg_trgm, on PostgreSQL only
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
