#!/usr/bin/env python3
"""Regenerate tests/pco-sim/schema/pco.json from Planning Center's documented API.

The simulator serves exactly what this file lists. Each table names the documented resource it
comes from; attributes, CanInclude, CanOrderBy, CanQueryBy and the list filters are copied from
the reference docs (../shared/reference/pco-api-docs), while the routing (collection slug) and the
relation semantics (stored foreign key, reverse of a foreign key, or a join table) are declared
here. Adding an entity = one entry in TABLES.

Usage: python3 tests/pco-sim/scripts/extract-schema.py [DOCS_DIR]
"""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '../../../../shared/reference/pco-api-docs')
FILES = {'people': 'people-2025-11-10.json', 'groups': 'groups-2023-07-10.json',
         'calendar': 'calendar-2022-07-07.json', 'webhooks': 'webhooks-2022-10-20.json'}

def one(name, target): return {'name': name, 'kind': 'one', 'target': target}
def many(name, target, via): return {'name': name, 'kind': 'many', 'target': target, 'via': via}
def through(name, target, join, frm, to):
    return {'name': name, 'kind': 'through', 'target': target, 'join': join, 'from': frm, 'to': to}
def org(): return {'name': 'organization', 'kind': 'org', 'target': 'Organization'}

# table, module, documented resource, wire type, collection slug under /{module}/v2 (None = nested only), relations
TABLES = [
    ('Campus', 'people', 'campus', 'Campus', 'campuses', [org()]),
    ('Person', 'people', 'person', 'Person', 'people', [
        one('primary_campus', 'Campus'), many('addresses', 'Address', 'person'),
        many('emails', 'Email', 'person'), many('phone_numbers', 'PhoneNumber', 'person'),
        many('household_memberships', 'HouseholdMembership', 'person'),
        through('households', 'Household', 'HouseholdMembership', 'person', 'household'),
        many('field_data', 'FieldDatum', 'customizable'), many('notes', 'Note', 'person'), org()]),
    ('Address', 'people', 'address', 'Address', 'addresses', [one('person', 'Person')]),
    ('Email', 'people', 'email', 'Email', 'emails', [one('person', 'Person')]),
    ('PhoneNumber', 'people', 'phone_number', 'PhoneNumber', 'phone_numbers', [one('person', 'Person')]),
    ('Household', 'people', 'household', 'Household', 'households', [
        one('primary_contact', 'Person'),
        through('people', 'Person', 'HouseholdMembership', 'household', 'person'),
        many('household_memberships', 'HouseholdMembership', 'household')]),
    ('HouseholdMembership', 'people', 'household_membership', 'HouseholdMembership', None, [
        one('household', 'Household'), one('person', 'Person')]),
    ('Tab', 'people', 'tab', 'Tab', 'tabs', [many('field_definitions', 'FieldDefinition', 'tab')]),
    ('FieldDefinition', 'people', 'field_definition', 'FieldDefinition', 'field_definitions', [one('tab', 'Tab')]),
    ('FieldDatum', 'people', 'field_datum', 'FieldDatum', 'field_data', [
        one('field_definition', 'FieldDefinition'), one('customizable', 'Person')]),
    ('Note', 'people', 'note', 'Note', 'notes', [one('person', 'Person'), org()]),
    ('List', 'people', 'list', 'List', 'lists', []),
    ('GroupType', 'groups', 'group_type', 'GroupType', 'group_types', [
        many('groups', 'Group', 'group_type'), many('events', 'GroupEvent', 'group_type')]),
    ('Group', 'groups', 'group', 'Group', 'groups', [
        one('group_type', 'GroupType'),
        many('memberships', 'GroupMembership', 'group'), many('events', 'GroupEvent', 'group')]),
    ('GroupMembership', 'groups', 'membership', 'Membership', None, [one('group', 'Group'), one('person', 'Person')]),
    ('GroupEvent', 'groups', 'event', 'Event', 'events', [
        one('group', 'Group'), one('group_type', 'GroupType')]),
    ('CalendarEvent', 'calendar', 'event', 'Event', 'events', [
        one('owner', 'Person'), many('event_instances', 'EventInstance', 'event')]),
    ('EventInstance', 'calendar', 'event_instance', 'EventInstance', 'event_instances', [one('event', 'CalendarEvent')]),
    ('WebhookSubscription', 'webhooks', 'webhook_subscription', 'WebhookSubscription', 'webhook_subscriptions', []),
]

FIELDS_ONLY = 'Only available when requested with the `?fields` param'

def main():
    docs = {m: {r['JsonName']: r for r in json.load(open(os.path.join(DOCS, f)))['Resources']}
            for m, f in FILES.items()}
    out = {'source': {m: f for m, f in FILES.items()}, 'organization': {}, 'tables': []}
    for m in FILES:
        o = docs[m]['organization']
        out['organization'][m] = [[a['JsonName'], a['ClrType']] for a in o['Attributes']
                                  if a['Description'] != FIELDS_ONLY]
    for name, module, res, wire, slug, rels in TABLES:
        r = docs[module][res]
        filters = []
        if slug:
            for c in docs[module]['organization']['Children']:
                if c['Slug'] == slug:
                    filters = [f['Value'] for f in c['Filters']]
        declared = [x['JsonName'] for x in r['Relationships']]
        for rel in rels:
            rel['default'] = rel['name'] in declared
        out['tables'].append({
            'name': name, 'module': module, 'resource': res, 'type': wire, 'collection': slug,
            'attributes': [[a['JsonName'], a['ClrType']] for a in r['Attributes']
                           if a['Description'] != FIELDS_ONLY],
            'can_include': [x['Value'] for x in r['CanInclude']],
            'can_order_by': [x['Value'] for x in r['CanOrderBy']],
            'can_query_by': [[x['Parameter'][6:-1], x['ClrType']] for x in r['CanQueryBy']],
            'can_filter': filters,
            'relations': rels,
            'postable': r['Postable'], 'patchable': r['Patchable'], 'deletable': r['Deletable'],
        })
    path = os.path.join(HERE, '../schema/pco.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print('wrote', os.path.normpath(path), len(out['tables']), 'tables')

main()
