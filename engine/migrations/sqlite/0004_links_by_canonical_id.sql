-- Written once from the spec's change; never edit a released migration.
-- Links by canonical id: a canonical id names its remote record (organisation, adapter,
-- entity, remote id), so external_links needs one key, not a four-column key and an index on
-- canonical_id (the second index cost 11 % of a sync's instructions). SQLite cannot change a
-- primary key in place: the table is rebuilt.
CREATE TABLE "external_links_by_canonical_id" (
    "org_id" TEXT NOT NULL,
    "adapter" TEXT NOT NULL,
    "entity" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "canonical_id" TEXT NOT NULL,
    "canonical_entity" TEXT NOT NULL,
    "content_hash" TEXT NOT NULL,
    "remote_updated_at" TEXT,
    "first_seen_ms" INTEGER NOT NULL,
    "last_seen_ms" INTEGER NOT NULL,
    "last_run_id" TEXT,
    PRIMARY KEY ("canonical_id")
);
INSERT INTO "external_links_by_canonical_id" ("org_id", "adapter", "entity", "external_id",
    "canonical_id", "canonical_entity", "content_hash", "remote_updated_at", "first_seen_ms",
    "last_seen_ms", "last_run_id")
SELECT "org_id", "adapter", "entity", "external_id", "canonical_id", "canonical_entity",
    "content_hash", "remote_updated_at", "first_seen_ms", "last_seen_ms", "last_run_id"
FROM "external_links" ORDER BY "canonical_id";
DROP TABLE "external_links";
ALTER TABLE "external_links_by_canonical_id" RENAME TO "external_links";
-- Nested lists now walk their parents in canonical id order, not remote id order: an
-- unfinished walk restarts from its first parent (its pages upsert again; nothing is lost)
-- rather than resume from a place the new order does not continue.
UPDATE "entity_runs" SET "cursor_parent" = NULL, "next_offset" = NULL
WHERE "cursor_parent" IS NOT NULL AND "state" <> 'done';
