-- Written once from the spec's change; never edit a released migration.
-- Links by canonical id: a canonical id names its remote record (organisation, adapter,
-- entity, remote id), so external_links needs one key, not a four-column key and an index on
-- canonical_id. The columns of the old key are no longer keyed: they compare as other text
-- does (a change of collation only, no rewrite of the table).
ALTER TABLE "external_links" DROP CONSTRAINT "external_links_pkey";
DROP INDEX "external_links_idx0";
ALTER TABLE "external_links" ADD PRIMARY KEY ("canonical_id");
ALTER TABLE "external_links" ALTER COLUMN "org_id" TYPE TEXT COLLATE "default";
ALTER TABLE "external_links" ALTER COLUMN "adapter" TYPE TEXT COLLATE "default";
ALTER TABLE "external_links" ALTER COLUMN "entity" TYPE TEXT COLLATE "default";
ALTER TABLE "external_links" ALTER COLUMN "external_id" TYPE TEXT COLLATE "default";
-- Nested lists now walk their parents in canonical id order, not remote id order: an
-- unfinished walk restarts from its first parent (its pages upsert again; nothing is lost)
-- rather than resume from a place the new order does not continue.
UPDATE "entity_runs" SET "cursor_parent" = NULL, "next_offset" = NULL
WHERE "cursor_parent" IS NOT NULL AND "state" <> 'done';
