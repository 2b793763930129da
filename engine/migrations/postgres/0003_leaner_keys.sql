-- Written once from the spec's change; never edit a released migration.
-- Leaner keys: ids carry their organisation's namespace, so the indexes on owner_id,
-- canonical_id and target_id need no leading org_id (every comparison walked the equal
-- org_id first); external_links' index on last_seen_ms served no query.
-- PostgreSQL: key and index columns compare bytes (COLLATE "C"), as SQLite does, not
-- through the locale's strcoll. The view reads those columns, so it is made again.
DROP VIEW "relationships";
DROP INDEX "people_owner_idx";
DROP INDEX "addresses_owner_idx";
DROP INDEX "emails_owner_idx";
DROP INDEX "phone_numbers_owner_idx";
DROP INDEX "households_owner_idx";
DROP INDEX "household_memberships_owner_idx";
DROP INDEX "campuses_owner_idx";
DROP INDEX "groups_owner_idx";
DROP INDEX "group_memberships_owner_idx";
DROP INDEX "events_owner_idx";
DROP INDEX "event_instances_owner_idx";
DROP INDEX "notes_owner_idx";
DROP INDEX "custom_field_definitions_owner_idx";
DROP INDEX "custom_field_values_owner_idx";
DROP INDEX "external_links_idx0";
DROP INDEX "external_links_idx1";
DROP INDEX "edges_idx0";
ALTER TABLE "people" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "people" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "people" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "addresses" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "addresses" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "addresses" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "emails" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "emails" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "emails" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "phone_numbers" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "phone_numbers" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "phone_numbers" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "households" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "households" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "households" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "household_memberships" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "household_memberships" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "household_memberships" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "campuses" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "campuses" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "campuses" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "groups" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "groups" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "groups" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "group_memberships" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "group_memberships" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "group_memberships" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "events" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "events" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "events" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "event_instances" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "event_instances" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "event_instances" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "notes" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "notes" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "notes" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "custom_field_definitions" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "custom_field_definitions" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "custom_field_definitions" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "custom_field_values" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "custom_field_values" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "custom_field_values" ALTER COLUMN "owner_id" TYPE TEXT COLLATE "C";
ALTER TABLE "external_links" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "external_links" ALTER COLUMN "adapter" TYPE TEXT COLLATE "C";
ALTER TABLE "external_links" ALTER COLUMN "entity" TYPE TEXT COLLATE "C";
ALTER TABLE "external_links" ALTER COLUMN "external_id" TYPE TEXT COLLATE "C";
ALTER TABLE "external_links" ALTER COLUMN "canonical_id" TYPE TEXT COLLATE "C";
ALTER TABLE "edges" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "edges" ALTER COLUMN "source_id" TYPE TEXT COLLATE "C";
ALTER TABLE "edges" ALTER COLUMN "relationship" TYPE TEXT COLLATE "C";
ALTER TABLE "edges" ALTER COLUMN "target_id" TYPE TEXT COLLATE "C";
ALTER TABLE "quarantine" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "quarantine" ALTER COLUMN "adapter" TYPE TEXT COLLATE "C";
ALTER TABLE "quarantine" ALTER COLUMN "entity" TYPE TEXT COLLATE "C";
ALTER TABLE "quarantine" ALTER COLUMN "external_id" TYPE TEXT COLLATE "C";
ALTER TABLE "sync_runs" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "sync_runs" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "sync_runs" ALTER COLUMN "adapter" TYPE TEXT COLLATE "C";
ALTER TABLE "sync_runs" ALTER COLUMN "state" TYPE TEXT COLLATE "C";
ALTER TABLE "entity_runs" ALTER COLUMN "id" TYPE TEXT COLLATE "C";
ALTER TABLE "entity_runs" ALTER COLUMN "run_id" TYPE TEXT COLLATE "C";
ALTER TABLE "entity_runs" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "entity_runs" ALTER COLUMN "entity" TYPE TEXT COLLATE "C";
ALTER TABLE "entity_runs" ALTER COLUMN "state" TYPE TEXT COLLATE "C";
ALTER TABLE "tokens" ALTER COLUMN "org_id" TYPE TEXT COLLATE "C";
ALTER TABLE "tokens" ALTER COLUMN "adapter" TYPE TEXT COLLATE "C";
CREATE INDEX "people_owner_idx" ON "people" ("owner_id");
CREATE INDEX "addresses_owner_idx" ON "addresses" ("owner_id");
CREATE INDEX "emails_owner_idx" ON "emails" ("owner_id");
CREATE INDEX "phone_numbers_owner_idx" ON "phone_numbers" ("owner_id");
CREATE INDEX "households_owner_idx" ON "households" ("owner_id");
CREATE INDEX "household_memberships_owner_idx" ON "household_memberships" ("owner_id");
CREATE INDEX "campuses_owner_idx" ON "campuses" ("owner_id");
CREATE INDEX "groups_owner_idx" ON "groups" ("owner_id");
CREATE INDEX "group_memberships_owner_idx" ON "group_memberships" ("owner_id");
CREATE INDEX "events_owner_idx" ON "events" ("owner_id");
CREATE INDEX "event_instances_owner_idx" ON "event_instances" ("owner_id");
CREATE INDEX "notes_owner_idx" ON "notes" ("owner_id");
CREATE INDEX "custom_field_definitions_owner_idx" ON "custom_field_definitions" ("owner_id");
CREATE INDEX "custom_field_values_owner_idx" ON "custom_field_values" ("owner_id");
CREATE INDEX "external_links_idx0" ON "external_links" ("canonical_id");
CREATE INDEX "edges_idx0" ON "edges" ("target_id");

CREATE VIEW "relationships" AS
SELECT "org_id", "source_id", "relationship", "target_id" FROM "edges"
UNION ALL SELECT "org_id", "id", 'person_of', "owner_id" FROM "people" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'address_of', "owner_id" FROM "addresses" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'email_of', "owner_id" FROM "emails" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'phone_number_of', "owner_id" FROM "phone_numbers" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'household_of', "owner_id" FROM "households" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'household_membership_of', "owner_id" FROM "household_memberships" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'campus_of', "owner_id" FROM "campuses" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'group_of', "owner_id" FROM "groups" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'group_membership_of', "owner_id" FROM "group_memberships" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'event_of', "owner_id" FROM "events" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'event_instance_of', "owner_id" FROM "event_instances" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'note_of', "owner_id" FROM "notes" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'custom_field_definition_of', "owner_id" FROM "custom_field_definitions" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'custom_field_value_of', "owner_id" FROM "custom_field_values" WHERE "owner_id" IS NOT NULL;
