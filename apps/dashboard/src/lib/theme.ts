import { useEffect, useState } from 'react';

export type Theme = 'light' | 'dark' | 'system';
const STORAGE_KEY = 'genqueue.theme';

function readTheme(): Theme {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return saved === 'light' || saved === 'dark' ? saved : 'system';
  } catch {
    return 'system';
  }
}

const systemDark = (): MediaQueryList => window.matchMedia('(prefers-color-scheme: dark)');

/** Puts the palette on the page: the chosen one, or the system's for `system` (one CSS block per palette). */
export function applyTheme(theme: Theme = readTheme()): void {
  const dark = theme === 'dark' || (theme === 'system' && systemDark().matches);
  document.documentElement.setAttribute('data-theme', dark ? 'dark' : 'light');
}

/** Light, dark, or the system's choice (prefers-color-scheme); the choice, not a secret, is remembered. */
export function useTheme(): [Theme, (theme: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(readTheme);
  useEffect(() => {
    applyTheme(theme);
    // `system` follows the system while the page is open
    const follow = () => applyTheme(theme);
    if (theme === 'system') systemDark().addEventListener('change', follow);
    try {
      if (theme === 'system') localStorage.removeItem(STORAGE_KEY);
      else localStorage.setItem(STORAGE_KEY, theme);
    } catch {
      // private mode: the choice lasts for this page only
    }
    return () => systemDark().removeEventListener('change', follow);
  }, [theme]);
  return [theme, setTheme];
}
