import { readFileSync } from 'node:fs';
import { DEFAULT_PROGRAMME, loadProgramme, type Programme } from '@loyalty/domain';
import { ConfigError } from './env-schema';

/** The programme of PROGRAM_FILE, or the shipped default; a bad file is refused naming the field. */
export function programmeFromFile(file: string | undefined): Programme {
  if (!file) return DEFAULT_PROGRAMME;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`PROGRAM_FILE ${file} cannot be read as JSON: ${(err as Error).message}`]);
  }
  try {
    return loadProgramme(json);
  } catch (err) {
    throw new ConfigError([`PROGRAM_FILE ${file} is refused: ${(err as Error).message}`]);
  }
}
