import { config as loadDotenv } from 'dotenv';
import { parseSettings, type Settings } from './settings';

/** The one place a process reads its environment (plus `.env` in the working directory, if any). */
export function loadSettings(overrides: Record<string, string | undefined> = {}): Settings {
  loadDotenv({ quiet: true });
  return parseSettings({ ...process.env, ...overrides });
}
