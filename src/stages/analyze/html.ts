/** Escape text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

export function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–'
  return value.toFixed(digits)
}

/** A self-contained page: inline style, no script or font from anywhere else (it opens offline). */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans CJK JP",sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}td:first-child,th:first-child,td.t{text-align:left}
.fig{display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start}.muted{color:#777}.warn{color:#b00}
svg text{font-size:11px;fill:#333}svg .pt{fill:#1f77b4;fill-opacity:.55}svg .pt:hover{fill:#d62728;fill-opacity:1}
</style>
</head>
<body>
${body}
</body>
</html>
`
}
