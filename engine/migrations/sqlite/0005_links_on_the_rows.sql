-- Written once from the spec's change; never edit a released migration.
-- Links on the rows: a canonical row names one remote record (its id is derived from the
-- organisation, adapter, entity and remote id), so the bookkeeping external_links kept beside
-- it (adapter, entity, remote id, content hash, seen times, run) moves onto the row. A first
-- sync wrote one link row and one more key per record, a quarter of what it wrote; a view of
-- the same name shows the columns as the table did. A later sync that finds a record
-- unchanged marks it in seen_marks (a narrow row) rather than rewrite the wide row.
ALTER TABLE "people" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "people" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "people" ADD COLUMN "external_id" TEXT;
ALTER TABLE "people" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "people" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "people" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "people" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "people" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "addresses" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "addresses" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "addresses" ADD COLUMN "external_id" TEXT;
ALTER TABLE "addresses" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "addresses" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "addresses" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "addresses" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "addresses" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "emails" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "emails" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "emails" ADD COLUMN "external_id" TEXT;
ALTER TABLE "emails" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "emails" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "emails" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "emails" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "emails" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "phone_numbers" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "phone_numbers" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "phone_numbers" ADD COLUMN "external_id" TEXT;
ALTER TABLE "phone_numbers" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "phone_numbers" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "phone_numbers" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "phone_numbers" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "phone_numbers" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "households" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "households" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "households" ADD COLUMN "external_id" TEXT;
ALTER TABLE "households" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "households" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "households" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "households" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "households" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "household_memberships" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "household_memberships" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "household_memberships" ADD COLUMN "external_id" TEXT;
ALTER TABLE "household_memberships" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "household_memberships" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "household_memberships" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "household_memberships" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "household_memberships" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "campuses" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "campuses" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "campuses" ADD COLUMN "external_id" TEXT;
ALTER TABLE "campuses" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "campuses" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "campuses" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "campuses" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "campuses" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "groups" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "groups" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "groups" ADD COLUMN "external_id" TEXT;
ALTER TABLE "groups" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "groups" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "groups" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "groups" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "groups" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "group_memberships" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "group_memberships" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "group_memberships" ADD COLUMN "external_id" TEXT;
ALTER TABLE "group_memberships" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "group_memberships" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "group_memberships" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "group_memberships" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "group_memberships" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "events" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "events" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "events" ADD COLUMN "external_id" TEXT;
ALTER TABLE "events" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "events" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "events" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "events" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "events" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "event_instances" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "event_instances" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "event_instances" ADD COLUMN "external_id" TEXT;
ALTER TABLE "event_instances" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "event_instances" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "event_instances" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "event_instances" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "event_instances" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "notes" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "notes" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "notes" ADD COLUMN "external_id" TEXT;
ALTER TABLE "notes" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "notes" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "notes" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "notes" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "notes" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "custom_field_definitions" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "custom_field_definitions" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "custom_field_definitions" ADD COLUMN "external_id" TEXT;
ALTER TABLE "custom_field_definitions" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "custom_field_definitions" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "custom_field_definitions" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "custom_field_definitions" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "custom_field_definitions" ADD COLUMN "last_run_id" TEXT;
ALTER TABLE "custom_field_values" ADD COLUMN "source_adapter" TEXT;
ALTER TABLE "custom_field_values" ADD COLUMN "source_entity" TEXT;
ALTER TABLE "custom_field_values" ADD COLUMN "external_id" TEXT;
ALTER TABLE "custom_field_values" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "custom_field_values" ADD COLUMN "remote_updated_at" TEXT;
ALTER TABLE "custom_field_values" ADD COLUMN "first_seen_ms" INTEGER;
ALTER TABLE "custom_field_values" ADD COLUMN "last_seen_ms" INTEGER;
ALTER TABLE "custom_field_values" ADD COLUMN "last_run_id" TEXT;
UPDATE "people" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "people"."id";
UPDATE "addresses" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "addresses"."id";
UPDATE "emails" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "emails"."id";
UPDATE "phone_numbers" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "phone_numbers"."id";
UPDATE "households" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "households"."id";
UPDATE "household_memberships" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "household_memberships"."id";
UPDATE "campuses" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "campuses"."id";
UPDATE "groups" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "groups"."id";
UPDATE "group_memberships" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "group_memberships"."id";
UPDATE "events" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "events"."id";
UPDATE "event_instances" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "event_instances"."id";
UPDATE "notes" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "notes"."id";
UPDATE "custom_field_definitions" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "custom_field_definitions"."id";
UPDATE "custom_field_values" SET "source_adapter" = l."adapter", "source_entity" = l."entity", "external_id" = l."external_id", "content_hash" = l."content_hash", "remote_updated_at" = l."remote_updated_at", "first_seen_ms" = l."first_seen_ms", "last_seen_ms" = l."last_seen_ms", "last_run_id" = l."last_run_id" FROM "external_links" AS l WHERE l."canonical_id" = "custom_field_values"."id";
DROP TABLE "external_links";

-- seen_marks: When a sync last saw a stored record again unchanged (the row keeps when it was written).
CREATE TABLE "seen_marks" (
    "canonical_id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "last_seen_ms" INTEGER NOT NULL,
    "last_run_id" TEXT,
    PRIMARY KEY ("canonical_id")
);

-- external_links: which remote record (adapter, entity, external id) a canonical row came from.
CREATE VIEW "external_links" AS
SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'person' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "people" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'address' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "addresses" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'email' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "emails" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'phone_number' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "phone_numbers" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'household' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "households" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'household_membership' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "household_memberships" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'campus' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "campuses" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'group' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "groups" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'group_membership' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "group_memberships" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'event' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "events" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'event_instance' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "event_instances" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'note' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "notes" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'custom_field_definition' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "custom_field_definitions" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL
UNION ALL SELECT t."org_id", t."source_adapter" AS "adapter", t."source_entity" AS "entity", t."external_id", t."id" AS "canonical_id", 'custom_field_value' AS "canonical_entity", t."content_hash", t."remote_updated_at", t."first_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_seen_ms" ELSE t."last_seen_ms" END AS "last_seen_ms", CASE WHEN m."last_seen_ms" > t."last_seen_ms" THEN m."last_run_id" ELSE t."last_run_id" END AS "last_run_id" FROM "custom_field_values" AS t LEFT JOIN "seen_marks" AS m ON m."canonical_id" = t."id" WHERE t."external_id" IS NOT NULL;
