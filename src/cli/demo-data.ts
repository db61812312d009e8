import { defineFixture } from '../testing/fixture.js'

/**
 * `sahana`: a small web2py-style disaster-relief database with the dirt of the seed migration:
 * - `auth_user` rows whose emails differ only in case (Linda), referenced by `pr_person.user_id`;
 * - `or_organisation` names "Médecins du Monde France" and "Medecins du Monde France" (equal under an
 *   accent-insensitive collation), multi-line descriptions, and `sector_id` 14, 15, 16 that `or_sector`
 *   lacks (the foreign key is declared but SQLite never enforced it);
 * - `gis_layer_js` code spread over several lines (LF and CRLF);
 * - loose rows (SQLite only): `'01/14/10 1'` in a DATETIME column and `'lots-of-it'` in an INTEGER NOT NULL
 *   column, which must become rejected rows, not aborts or NULLs;
 * - `msg_log`, which the seed's plan drops (exclude it with `tables.exclude`).
 */
export const sahanaFixture = defineFixture({
  name: 'sahana',
  tables: [
    {
      name: 'auth_user',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false, autoIncrement: true },
        { name: 'first_name', type: { kind: 'text', length: 128 } },
        { name: 'last_name', type: { kind: 'text', length: 128 } },
        { name: 'email', type: { kind: 'text', length: 255 } },
        { name: 'password', type: { kind: 'text', length: 255 } },
        { name: 'created_on', type: { kind: 'timestamp' } },
      ],
      primaryKey: ['id'],
      uniques: [['email']],
      rows: [
        [1, 'Admin', 'User', 'admin@example.org', 'pbkdf2$1', '2010-01-12 09:00:00'],
        [2, 'Linda', 'Smith', 'linda.smith@example.org', 'pbkdf2$2', '2010-01-13 10:00:00'],
        [3, 'Linda', 'Smith', 'Linda.Smith@example.org', 'pbkdf2$3', '2010-01-14 11:00:00'],
        [4, 'Jean', 'Dupont', 'jean@example.fr', 'pbkdf2$4', '2010-01-14 12:00:00'],
        [5, 'LINDA', 'SMITH', 'LINDA.SMITH@EXAMPLE.ORG', 'pbkdf2$5', '2010-01-15 08:00:00'],
        [6, 'Marie', 'Curie', 'marie@example.fr', 'pbkdf2$6', '2010-01-16 08:00:00'],
      ],
    },
    {
      name: 'pr_person',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false, autoIncrement: true },
        { name: 'first_name', type: { kind: 'text', length: 128 } },
        { name: 'last_name', type: { kind: 'text', length: 128 } },
        { name: 'user_id', type: { kind: 'int32' } },
      ],
      primaryKey: ['id'],
      foreignKeys: [{ columns: ['user_id'], refTable: 'auth_user', refColumns: ['id'] }],
      rows: [
        [1, 'Admin', 'User', 1],
        [2, 'Linda', 'Smith', 2],
        [3, 'Linda', 'Smith', 3],
        [4, 'Jean', 'Dupont', 4],
        [5, 'Linda', 'Smith', 5],
        [6, 'Marie', 'Curie', 6],
        [7, 'No', 'Account', null],
      ],
    },
    {
      name: 'or_sector',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false, autoIncrement: true },
        { name: 'name', type: { kind: 'text', length: 128 }, nullable: false },
      ],
      primaryKey: ['id'],
      rows: [
        [1, 'Agriculture'],
        [2, 'Camp Coordination'],
        [3, 'Early Recovery'],
        [4, 'Education'],
        [5, 'Emergency Shelter'],
        [6, 'Emergency Telecommunications'],
        [7, 'Health'],
        [8, 'Logistics'],
        [9, 'Nutrition'],
        [10, 'Protection'],
        [11, 'Water Sanitation Hygiene'],
        [12, 'Food'],
        [13, 'Security'],
      ],
    },
    {
      name: 'or_organisation',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false, autoIncrement: true },
        { name: 'name', type: { kind: 'text', length: 128 }, nullable: false },
        { name: 'acronym', type: { kind: 'text', length: 16 } },
        { name: 'sector_id', type: { kind: 'int32' } },
        { name: 'description', type: { kind: 'text' } },
        { name: 'budget', type: { kind: 'int32' }, nullable: false },
        { name: 'timestamp', type: { kind: 'timestamp' } },
      ],
      primaryKey: ['id'],
      uniques: [['name']],
      foreignKeys: [{ columns: ['sector_id'], refTable: 'or_sector', refColumns: ['id'] }],
      rows: [
        [1, 'Médecins du Monde France', 'MdM', 7, 'Health care\nfor people in need', 100000, '2010-01-13 10:00:00'],
        [2, 'Medecins du Monde France', 'MDM', 7, 'Duplicate entry\r\ntyped without accents', 0, '2010-01-13 11:00:00'],
        [3, 'Oxfam', 'OXFAM', 11, 'Water and sanitation', 250000, '2010-01-13 12:00:00'],
        [4, 'World Food Programme', 'WFP', 12, 'Food\n\nassistance', 900000, null],
        [5, 'Haiti Relief Network', null, 14, 'Sector 14 does not exist', 5000, '2010-01-14 09:00:00'],
        [6, 'Port-au-Prince Volunteers', 'PAPV', 15, null, 1000, '2010-01-14 09:30:00'],
        [7, 'Radio Kiskeya', null, 16, 'Community radio', 2000, '2010-01-14 10:00:00'],
        [8, 'Red Cross', 'IFRC', 7, 'Emergency\nshelter\nand health', 750000, '2010-01-14 10:30:00'],
      ],
      looseRows: [
        [9, 'Broken Timestamp Org', null, 4, 'the timestamp is junk', 1500, '01/14/10 1'],
        [10, 'Broken Budget Org', null, 4, 'the budget is text', 'lots-of-it', '2010-01-15 10:00:00'],
      ],
    },
    {
      name: 'or_office',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false, autoIncrement: true },
        { name: 'organisation_id', type: { kind: 'int32' }, nullable: false },
        { name: 'name', type: { kind: 'text', length: 128 } },
        { name: 'address', type: { kind: 'text' } },
      ],
      primaryKey: ['id'],
      foreignKeys: [{ columns: ['organisation_id'], refTable: 'or_organisation', refColumns: ['id'] }],
      indexes: [{ name: 'or_office_org_idx', columns: ['organisation_id'] }],
      rows: [
        [1, 1, 'MdM Port-au-Prince', '12 Rue Capois\nPort-au-Prince'],
        [2, 2, 'MdM Jacmel', 'Jacmel'],
        [3, 3, 'Oxfam Delmas', 'Delmas 33\r\nHaiti'],
        [4, 5, 'HRN Office', null],
      ],
    },
    {
      name: 'gis_layer_js',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false, autoIncrement: true },
        { name: 'name', type: { kind: 'text', length: 128 } },
        { name: 'code', type: { kind: 'text' } },
      ],
      primaryKey: ['id'],
      rows: [
        [1, 'Haiti boundaries', 'var layer = new OpenLayers.Layer.Vector("Haiti");\nmap.addLayer(layer);'],
        [2, 'Camps', 'var camps = 1;\r\nvar shown = true;\r\n'],
        [3, 'Empty', ''],
      ],
    },
    {
      name: 'msg_log',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false, autoIncrement: true },
        { name: 'message', type: { kind: 'text' } },
      ],
      primaryKey: ['id'],
      rows: [
        [1, 'tweet: need water in Léogâne'],
        [2, 'sms: 4636'],
      ],
    },
  ],
})
