/** Escape text for HTML element content and attribute values. */
export function escapeHtml(value: string | number | boolean | null | undefined): string {
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

/**
 * A self-contained page: inline style and SVG figures, no script or font from anywhere else (it opens
 * offline and prints). `wide` lets it use the whole window (the report); the others keep a reading width.
 */
export function page(title: string, body: string, options: {wide?: boolean} = {}): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans CJK JP",sans-serif;margin:2em;color:#222;max-width:${options.wide ? 'none' : '1300px'}}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}td:first-child,th:first-child,td.t{text-align:left}
.fig{display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start}.muted{color:#777}.warn{color:#b00}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:1.5em}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(600px,1fr));gap:2em;align-items:start}
figure{margin:0 0 1em}figure svg{max-width:100%;height:auto;display:block}figcaption{font-size:.9em;color:#444;max-width:640px}
svg [role=graphics-symbol]:hover{stroke:#000;stroke-opacity:.9}
@media print{body{margin:0;max-width:none}figure,table{break-inside:avoid}a{color:inherit}}
</style>
</head>
<body>
${body}
</body>
</html>
`
}
