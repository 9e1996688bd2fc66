/**
 * Reads INI text the way oslo.config's iniparser does, so an operator's file
 * from the original proof of concept is accepted as written:
 *  - `key = value` or `key: value` (whichever separator comes first);
 *  - comments only on lines starting with `#` or `;` — there are no inline
 *    comments (a password may contain `#`);
 *  - indented lines continue the previous value (joined with a newline);
 *  - a value wrapped in matching quotes loses them;
 *  - a later key in the same section overrides an earlier one.
 * Generic INI libraries strip inline comments and disagree on continuations,
 * which would silently change passwords and URLs, hence this small reader.
 */

export interface IniLine {
  section: string;
  key: string;
  value: string;
  line: number;
}

export class IniSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

export interface IniDocument {
  /** Section names in the order they first appear (`DEFAULT` included when present). */
  sections: string[];
  get(section: string, key: string): IniLine | undefined;
  keys(section: string): string[];
}

export function parseOsloIni(text: string): IniDocument {
  const values = new Map<string, Map<string, IniLine>>();
  const sections: string[] = [];
  let section: string | undefined;
  let pending: { key: string; parts: string[]; line: number } | undefined;

  const flush = (): void => {
    if (!pending || section === undefined) return;
    const value = unquote(pending.parts.join('\n').trim());
    values.get(section)!.set(pending.key, { section, key: pending.key, value, line: pending.line });
    pending = undefined;
  };

  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.replace(/\s+$/, '');
    if (line === '') {
      flush();
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (!pending) {
        // A comment indented under a section is still a comment in oslo.
        if (/^\s*[#;]/.test(line)) continue;
        throw new IniSyntaxError(lineNo, `unexpected continuation line: ${line.trim()}`);
      }
      pending.parts.push(line.trim());
      continue;
    }
    flush();
    if (line[0] === '[') {
      const m = /^\[([^\]]+)\]$/.exec(line);
      if (!m) throw new IniSyntaxError(lineNo, `invalid section header: ${line}`);
      section = m[1]!.trim();
      if (!values.has(section)) {
        values.set(section, new Map());
        sections.push(section);
      }
      continue;
    }
    if (line[0] === '#' || line[0] === ';') continue;
    if (section === undefined) throw new IniSyntaxError(lineNo, 'option outside of any section');
    const colon = line.indexOf(':');
    const equal = line.indexOf('=');
    if (colon < 0 && equal < 0) throw new IniSyntaxError(lineNo, `expected "key = value": ${line}`);
    const sep = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
    const key = line.slice(0, sep).trim();
    if (!key) throw new IniSyntaxError(lineNo, `empty key: ${line}`);
    pending = { key, parts: [line.slice(sep + 1)], line: lineNo };
  }
  flush();

  return {
    sections,
    get: (s, k) => values.get(s)?.get(k),
    keys: (s) => [...(values.get(s)?.keys() ?? [])],
  };
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[0] === value[value.length - 1]) {
    return value.slice(1, -1);
  }
  return value;
}
