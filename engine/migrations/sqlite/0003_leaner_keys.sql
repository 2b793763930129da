-- Written once from the spec's change; never edit a released migration.
-- Leaner keys: ids carry their organisation's namespace, so the indexes on owner_id,
-- canonical_id and target_id need no leading org_id (every comparison walked the equal
-- org_id first); external_links' index on last_seen_ms served no query.
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
