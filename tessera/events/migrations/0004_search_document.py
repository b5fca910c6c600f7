"""Discovery's full text reads a stored tsvector instead of computing one per row.

On PostgreSQL a trigger keeps `search_document` = `to_tsvector('simple', title || ' ' ||
description)` on every insert and on updates that change the text (or leave it empty), the
column is backfilled, and the GIN index moves from the expression (0002) to the column.
SQLite keeps the column null (it searches with LIKE).
"""

from django.contrib.postgres.search import SearchVectorField
from django.db import migrations

DISCOVERABLE = "status = 'published' AND visibility = 'public'"
FORWARD = [
    """
    CREATE OR REPLACE FUNCTION events_event_search_document() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.search_document IS NULL
           OR NEW.title IS DISTINCT FROM OLD.title
           OR NEW.description IS DISTINCT FROM OLD.description THEN
            NEW.search_document := to_tsvector(
                'simple'::regconfig, COALESCE(NEW.title, '') || ' ' || COALESCE(NEW.description, '')
            );
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS events_event_search_document ON events_event",
    """
    CREATE TRIGGER events_event_search_document BEFORE INSERT OR UPDATE ON events_event
    FOR EACH ROW EXECUTE FUNCTION events_event_search_document()
    """,
    "UPDATE events_event SET search_document = NULL",  # the trigger fills it
    "DROP INDEX IF EXISTS event_search_idx",
    f"CREATE INDEX event_search_idx ON events_event USING gin (search_document) WHERE {DISCOVERABLE}",
]
BACKWARD = [
    "DROP INDEX IF EXISTS event_search_idx",
    (
        "CREATE INDEX event_search_idx ON events_event USING gin ((to_tsvector('simple'::regconfig, "
        "COALESCE(title, '') || ' ' || COALESCE(description, '')))) "
        f"WHERE {DISCOVERABLE}"
    ),
    "DROP TRIGGER IF EXISTS events_event_search_document ON events_event",
    "DROP FUNCTION IF EXISTS events_event_search_document()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("events", "0003_notification_templates")]

    operations = [
        migrations.AddField(
            model_name="event",
            name="search_document",
            field=SearchVectorField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
