import { describe, expect, it } from 'vitest'
import { orderObjects } from '../../src/finish/objects.js'
import type { ObjectSchema } from '../../src/schema/types.js'
import { mssqlSql } from '../../dialects/mssql/mssql-sql.js'

/**
 * Names as the user wrote them when the catalog does not keep their case (Babelfish's sys.* is lower-case,
 * INFORMATION_SCHEMA and module definitions keep the case), and object dependencies read from definitions
 * where sys.sql_expression_dependencies is empty.
 */
describe('SQL Server catalog names', () => {
  it('spells a sys.* name as INFORMATION_SCHEMA does, exact matches first, never guessing between two', () => {
    const spell = mssqlSql.nameSpeller(['Track', 'PlayList', 'a', 'A'])
    expect(spell('track')).toBe('Track')
    expect(spell('playlist')).toBe('PlayList')
    expect(spell('Track')).toBe('Track')
    // a case-sensitive database may hold both: the exact name wins, an ambiguous one stays as the catalog has it
    expect(spell('a')).toBe('a')
    expect(spell('A')).toBe('A')
    expect(mssqlSql.nameSpeller(['x1', 'X1'])('x1')).toBe('x1')
    expect(mssqlSql.nameSpeller(['Ab', 'AB'])('ab')).toBe('ab')
    expect(spell('unknown')).toBe('unknown')
  })

  it("strips Babelfish's table-and-hash suffix from an index name, and leaves SQL Server's names alone", () => {
    expect(mssqlSql.indexNameAsWritten('ix_track_nametrackceaa245c71f0cc4670d75d6c9c7c4285', 'Track')).toBe('ix_track_name')
    expect(mssqlSql.indexNameAsWritten('IX_Track_Name', 'Track')).toBe('IX_Track_Name')
    // a name that merely ends in hex is kept when the table's name is not before it
    expect(mssqlSql.indexNameAsWritten('ix_ceaa245c71f0cc4670d75d6c9c7c4285', 'Track')).toBe('ix_ceaa245c71f0cc4670d75d6c9c7c4285')
    // PostgreSQL's 63-byte limit: index and table names together are cut to 31 characters before the hash
    expect(mssqlSql.indexNameAsWritten('ix_aaverylongtablenamethatwilln8c745e182ed1598be089179eb757dcc4', 'AVeryLongTableNameThatWillNotFitAnywhere')).toBe('ix_a')
    expect(mssqlSql.indexNameAsWritten('ix_somewhatlongindexname_onthei0cff9dbd27584d8ef1975340581441a3', 'AVeryLongTableNameThatWillNotFitAnywhere')).toBe('ix_somewhatlongindexname_onthei')
    // a SQL Server name with capitals is never Babelfish's
    expect(mssqlSql.indexNameAsWritten('IX_Tracktrackceaa245c71f0cc4670d75d6c9c7c4285', 'Track')).toBe('IX_Tracktrackceaa245c71f0cc4670d75d6c9c7c4285')
  })

  it('reads the name a module was created with from its definition', () => {
    expect(mssqlSql.definedName('CREATE VIEW TrackView AS SELECT 1 AS x')).toBe('TrackView')
    expect(mssqlSql.definedName('-- a comment\n/* another */ create or alter function [dbo].[Track Count]() returns int as begin return 1 end')).toBe('Track Count')
    expect(mssqlSql.definedName('CREATE PROC dbo."ListTracks" AS SELECT 1')).toBe('ListTracks')
    expect(mssqlSql.definedName('SELECT 1')).toBeUndefined()
  })

  it('finds the names a definition references, outside comments and string literals', () => {
    const names = ['Track', 'TrackView', 'TrackCount', 'Other Table', 'ListTracks']
    const refs = mssqlSql.referencedNames(
      "CREATE PROCEDURE dbo.ListTracks AS -- TrackView is not used\nSELECT dbo.TrackCount() AS n, 'Track' AS label FROM [dbo].[Other Table] /* Track */",
      names,
      'ListTracks',
    )
    expect(refs.sort()).toEqual(['Other Table', 'TrackCount'])
    expect(mssqlSql.referencedNames('CREATE VIEW v AS SELECT trackid FROM TRACK', names, 'v')).toEqual(['Track'])
  })

  it('orders objects by the references parsed from their definitions, not by kind', () => {
    const defs: Record<string, [ObjectSchema['type'], string]> = {
      top_tracks: ['view', 'CREATE VIEW top_tracks AS SELECT dbo.base_rate() AS r FROM Track'],
      base_rate: ['function', 'CREATE FUNCTION dbo.base_rate() RETURNS int AS BEGIN RETURN (SELECT COUNT(*) FROM Track) END'],
      list_top: ['procedure', 'CREATE PROCEDURE list_top AS SELECT * FROM top_tracks'],
    }
    const names = [...Object.keys(defs), 'Track']
    const objects: ObjectSchema[] = Object.entries(defs).map(([name, [type, definition]]) => ({ name, type, definition, dependsOn: mssqlSql.referencedNames(definition, names, name) }))
    expect(orderObjects(objects).map((o) => o.name)).toEqual(['base_rate', 'top_tracks', 'list_top'])
  })
})
