/**
 * The Sahana Eden migration checklist as one reviewable, re-runnable file.
 *
 *   npx dbferry demo                                        # builds ./dbferry-demo/sahana.db (the example)
 *   npx dbferry copy --config docs/examples/sahana.config.ts
 *   npx dbferry rejects dbferry-demo/sahana-journal.sqlite   # what it dropped, rejected, fixed, stubbed, remapped
 *
 * Other databases: pass them as arguments, they win over `from`/`to` below, e.g.
 *   npx dbferry copy --config docs/examples/sahana.config.ts sqlite:./storage.db mysql://root@127.0.0.1/sahana
 */
import { defineConfig, transforms as t } from 'dbferry'

export default defineConfig({
  from: 'sqlite:./dbferry-demo/sahana.db',
  to: 'sqlite:./dbferry-demo/sahana-clean.db',
  // re-runnable: the target tables are dropped and created again
  mode: 'recreate',
  // the seed dropped the message log tables
  tables: { exclude: [/^msg_/] },
  // web2py's SQLite file declares this one; on a MyISAM source you would declare it here:
  // foreignKeys: [{ from: 'or_organisation.sector_id', to: 'or_sector.id' }],
  transforms: [
    // 1. duplicate users whose emails differ only in case: keep the first, point their people at it
    t.dedupe({ table: 'auth_user', key: 'email', normalize: 'case-insensitive', keep: 'first' }),
    // 2. "Médecins du Monde France" and "Medecins du Monde France" are one organisation (and would collide
    //    under MySQL's accent-insensitive unique index): keep the first, move the other's offices to it
    t.dedupe({ table: 'or_organisation', key: 'name', normalize: 'case-and-accent-insensitive', keep: 'first' }),
    // 3. multi-line records broke the CSV import: one line per value
    t.collapseMultiline({ tables: ['or_organisation', 'gis_layer_js'], replacement: ' ' }),
    // 4. organisations in sectors 14–16, which do not exist: create placeholder sectors first
    t.fixDanglingForeignKeys({ strategy: 'stub', stub: (id) => ({ name: `Unknown sector ${String(id)}` }) }),
    // 5. MyISAM → InnoDB, so MySQL targets get transactions and enforced foreign keys
    t.rewriteEngine({ from: 'MyISAM', to: 'InnoDB' }),
  ],
  // 6. the load order (parents first) is the plan's job: no split files, no manual order
  journal: './dbferry-demo/sahana-journal.sqlite',
})
