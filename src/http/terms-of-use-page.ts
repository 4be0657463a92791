import { xmlAttr, xmlText } from '../protocol/xml/writer.ts';

/** `oobe`: the out-of-box experience (CXH-HOST FRX), full screen; `settings`: Settings > Accounts (CXH-HOST MOSET). */
export type TermsTheme = 'oobe' | 'settings';

export interface TermsOfUsePage {
  theme: TermsTheme;
  organisation: string;
  user: string;
  text: string;
  acceptUrl: string;
  declineUrl: string;
}

const THEMES: Record<TermsTheme, string> = {
  oobe: 'body{background:#0f3a6b;color:#fff;font:20px "Segoe UI",sans-serif;margin:48px 15%}a.primary{background:#fff;color:#0f3a6b}a{color:#fff;border-color:#fff}',
  settings: 'body{background:#fff;color:#1b1b1b;font:15px "Segoe UI",sans-serif;margin:24px}a.primary{background:#0067b8;color:#fff;border-color:#0067b8}a{color:#1b1b1b;border-color:#8a8886}',
};

const BASE_STYLE = 'main{max-width:720px}.terms{white-space:pre-wrap;line-height:1.5}nav{margin-top:32px;display:flex;gap:12px}a{display:inline-block;padding:8px 24px;border:1px solid;text-decoration:none}';

/** A small self-contained page (no scripts, no external assets: the account broker shows it as it is). */
export function renderTermsOfUsePage(page: TermsOfUsePage): string {
  const paragraphs = page.text
    .split(/\n\s*\n/)
    .map((p) => `<p class="terms">${xmlText(p.trim())}</p>`)
    .join('');
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>Terms of use - ${xmlText(page.organisation)}</title><style>${BASE_STYLE}${THEMES[page.theme]}</style></head>` +
    `<body data-theme="${page.theme}"><main><h1>${xmlText(page.organisation)} terms of use</h1>` +
    `<p>Signed in as ${xmlText(page.user)}</p>${paragraphs}` +
    `<nav><a class="primary" id="accept" href="${xmlAttr(page.acceptUrl)}">Accept</a>` +
    `<a id="decline" href="${xmlAttr(page.declineUrl)}">Decline</a></nav></main></body></html>`
  );
}

export function html(title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${xmlText(title)}</title></head><body><h1>${xmlText(title)}</h1><p>${xmlText(message)}</p></body></html>`;
}
