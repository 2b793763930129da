-- Written once from the spec's change; never edit a released migration.
-- A person's primary campus in a column: a to-one relationship the spec declares (`refs`)
-- is held in its row (`primary_campus_id`, indexed), not as an `edges` row. It was half of
-- all edges, and their four-column key most of what they cost a sync. The relationships
-- view shows it as before. Where a person had several such edges, the first (in order)
-- moves to the column and the rest stay edges.
ALTER TABLE "people" ADD COLUMN "primary_campus_id" TEXT;
UPDATE "people" SET "primary_campus_id" = e."target_id" FROM (SELECT "org_id", "source_id", MIN("target_id") AS "target_id" FROM "edges" WHERE "relationship" = 'primary_campus' GROUP BY "org_id", "source_id") AS e WHERE e."source_id" = "people"."id" AND e."org_id" = "people"."org_id";
DELETE FROM "edges" WHERE "relationship" = 'primary_campus' AND EXISTS (SELECT 1 FROM "people" WHERE "people"."id" = "edges"."source_id" AND "people"."org_id" = "edges"."org_id" AND "people"."primary_campus_id" = "edges"."target_id");
CREATE INDEX "people_primary_campus_idx" ON "people" ("primary_campus_id");
DROP VIEW "relationships";
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
UNION ALL SELECT "org_id", "id", 'custom_field_value_of', "owner_id" FROM "custom_field_values" WHERE "owner_id" IS NOT NULL
UNION ALL SELECT "org_id", "id", 'primary_campus', "primary_campus_id" FROM "people" WHERE "primary_campus_id" IS NOT NULL;
