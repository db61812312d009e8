/** `dbferry/testing`: helpers for users' own migration tests. */
export { buildFixture, defineFixture, fixtureSchema, type Fixture, type FixtureTable, type FixtureColumn } from '../../fixtures/fixture.js'
