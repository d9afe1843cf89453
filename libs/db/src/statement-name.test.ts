import { describe, expect, test } from 'vitest';
import { statementName } from './statement-name.js';

describe('statementName', () => {
  test.each([
    ['insert into user (id, name) values (?, ?)', 'insert into user'],
    ['INSERT OR REPLACE INTO "run_ost" values (1)', 'insert into run_ost'],
    ['replace into main.user values (1)', 'replace into main.user'],
    ['  update or ignore user set name = ? where id = ?', 'update user'],
    ['delete from `user_token` where userid = $id', 'delete from user_token'],
    ['select data from user where name = ?', 'select from user'],
    ['select count(*) from [project] p join org o on o.id = p.parentid', 'select from project'],
    ['select 1', 'select'],
    ['with recursive c(i) as (select 1) select * from c', 'with from c'],
    ['create table if not exists dbversion (version int)', 'create table dbversion'],
    ['CREATE UNIQUE INDEX user_name ON user (name)', 'create index user_name'],
    ['drop table if exists x', 'drop table x'],
    ['alter table user add column email text', 'alter table user'],
    ['pragma journal_mode', 'pragma'],
    ['-- comment\n/* more */ begin immediate', 'begin'],
    ['', 'statement'],
  ])('%j -> %s', (sql, name) => {
    expect(statementName(sql)).toBe(name);
  });

  test('never includes literals or comments', () => {
    expect(statementName("select 'from secret' as x")).toBe('select');
    expect(statementName("update /* from secret */ user set token = 'secret'")).toBe('update user');
    expect(statementName("insert into 'secret' values (1)")).toBe('insert into');
  });
});
