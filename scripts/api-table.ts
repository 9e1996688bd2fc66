// Writes the API table (src/api/table/) into README.md between its markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { withApiTable } from '../src/api/describe.js';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withApiTable(readFileSync(path, 'utf8')));
