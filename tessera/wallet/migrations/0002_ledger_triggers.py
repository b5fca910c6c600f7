"""PostgreSQL only: the ledger enforced by the database.

- A deferred constraint trigger checks, at commit, that every transfer touched in the
  transaction sums to zero per currency and that each entry's currency is its account's.
- Entries and transfers are append-only: UPDATE and DELETE are refused (a mistake is
  corrected by another transfer, never by editing history).

SQLite has no deferred constraint triggers: there `tessera.wallet.services.ledger` checks the
sums in the same transaction, and the nightly ledger check proves them on both.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION wallet_ledger_transfer_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT e.currency, SUM(e.amount_minor) AS total INTO bad
    FROM wallet_ledgerentry e
    WHERE e.transfer_id = NEW.transfer_id
    GROUP BY e.currency
    HAVING SUM(e.amount_minor) <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transfer % does not sum to zero in %: %',
            NEW.transfer_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM wallet_ledgeraccount a
        WHERE a.id = NEW.account_id AND a.currency <> NEW.currency
    ) THEN
        RAISE EXCEPTION 'ledger entry % is in %, its account is not', NEW.id, NEW.currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER wallet_ledger_entry_balanced
    AFTER INSERT OR UPDATE ON wallet_ledgerentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_transfer_balanced();

CREATE FUNCTION wallet_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: post a correcting transfer instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER wallet_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON wallet_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_append_only();

CREATE TRIGGER wallet_ledgertransfer_append_only
    BEFORE UPDATE OR DELETE ON wallet_ledgertransfer
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS wallet_ledgertransfer_append_only ON wallet_ledgertransfer;
DROP TRIGGER IF EXISTS wallet_ledgerentry_append_only ON wallet_ledgerentry;
DROP FUNCTION IF EXISTS wallet_ledger_append_only();
DROP TRIGGER IF EXISTS wallet_ledger_entry_balanced ON wallet_ledgerentry;
DROP FUNCTION IF EXISTS wallet_ledger_transfer_balanced();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
