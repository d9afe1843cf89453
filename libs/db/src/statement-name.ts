const IDENT = String.raw`("[^"]{1,64}"|\x60[^\x60]{1,64}\x60|\[[^\]]{1,64}\]|[A-Za-z_][\w$]{0,63})`;
const QUALIFIED = String.raw`${IDENT}(?:\s*\.\s*${IDENT})?`;

/** Removes comments and string literals, so nothing quoted can leak into a name. */
export function stripLiterals(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?(\*\/|$)/g, ' ')
    .replace(/'(?:[^']|'')*'?/g, "''");
}

/** The (optionally schema-qualified) identifier after the first match of `prefix`. */
function identAfter(sql: string, prefix: string): string | undefined {
  const m = new RegExp(String.raw`${prefix}\s+${QUALIFIED}`, 'i').exec(sql);
  if (!m) return undefined;
  const parts = [m[1], m[2]].filter((p): p is string => p !== undefined);
  return parts.map((p) => p.replace(/^["`[]|["`\]]$/g, '')).join('.');
}

/**
 * A short name for a statement, used in error messages and logs: its first keyword and the
 * table it works on (`insert into user`, `select from run`, `create table dbversion`). It is
 * made of SQL keywords and identifiers only: string literals, comments and parameter values
 * never appear in it.
 */
export function statementName(sql: string): string {
  const text = stripLiterals(sql).trim();
  const first = /^[A-Za-z]+/.exec(text)?.[0]?.toLowerCase();
  if (!first) return 'statement';
  let table: string | undefined;
  let verb = first;
  switch (first) {
    case 'insert':
    case 'replace':
      verb = `${first} into`;
      table = identAfter(text, String.raw`\binto`);
      break;
    case 'update':
      table = identAfter(text, String.raw`^update(?:\s+or\s+[a-z]+)?`);
      break;
    case 'delete':
      verb = 'delete from';
      table = identAfter(text, String.raw`\bfrom`);
      break;
    case 'select':
    case 'with':
      verb = `${first} from`;
      table = identAfter(text, String.raw`\bfrom`);
      if (!table) verb = first;
      break;
    case 'create':
    case 'drop':
    case 'alter': {
      const prefix = String.raw`^${first}\s+(?:(?:temp|temporary|unique|virtual)\s+)*(table|index|view|trigger)(?:\s+if(?:\s+not)?\s+exists)?`;
      const kind = new RegExp(prefix, 'i').exec(text)?.[1];
      if (kind) {
        verb = `${first} ${kind.toLowerCase()}`;
        table = identAfter(
          text,
          prefix.replace('(table|index|view|trigger)', '(?:table|index|view|trigger)'),
        );
      }
      break;
    }
    default:
      break;
  }
  return table ? `${verb} ${table}` : verb;
}
