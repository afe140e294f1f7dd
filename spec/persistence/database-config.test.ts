import { ConfigError, loadConfig } from '../../src/config';

describe('configuration: the database', () => {
  it('is the embedded SQLite file when DATABASE_URL is unset', () => {
    expect(loadConfig({}).database).toBeUndefined();
  });

  it('is PostgreSQL at DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://berth:secret@db.internal:5432/berth' }).database).toEqual({
      url: 'postgres://berth:secret@db.internal:5432/berth',
    });
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/berth' }).database).toEqual({ url: 'postgresql://db/berth' });
  });

  it('refuses another kind of URL, naming the setting', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/berth' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/berth' })).toThrow(/database\.url: must be a postgres:\/\/ or postgresql:\/\/ URL/);
  });
});
