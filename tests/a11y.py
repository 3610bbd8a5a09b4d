"""Hand-written accessibility and layout checks run in a real browser page (issue 15 item 5).

No axe-core: the checks below are written here, each a small piece of JavaScript evaluated
by Playwright in the page, returning a list of problems (empty = pass).  They cover the
"keyboard and screen-reader basics" of WCAG 2.1 level A/AA that a static page can fail:

* ``lang`` on ``<html>``, a non-empty ``<title>``, exactly one ``<h1>``, no skipped heading
  level, unique ``id`` values;
* every ``<img>`` has a non-empty ``alt``; every plot ``<svg>`` has ``role="img"`` and an
  accessible name (``aria-labelledby`` pointing at a non-empty ``<title>``, or
  ``aria-label``);
* every form control has a label; every link and button has text;
* text contrast >= 4.5:1 (3:1 for large text) against the first opaque background up the
  tree (WCAG 1.4.3);
* layout at the viewport width: no horizontal scrolling of the page (WCAG 1.4.10 reflow),
  header items do not overlap, ``<time>`` elements never break over lines;
* keyboard: Tab reaches the links and buttons in order and the focused element shows a
  visible focus indicator (WCAG 2.4.7).
"""

from __future__ import annotations

STRUCTURE = r"""() => {
  const out = [];
  const html = document.documentElement;
  if (!html.getAttribute('lang')) out.push('html has no lang');
  if (!document.title.trim()) out.push('no title');
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) out.push(`${h1} h1 elements`);
  let prev = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const lvl = +h.tagName[1];
    if (prev && lvl > prev + 1) out.push(`heading level skipped: h${prev} -> h${lvl} (${h.textContent.trim().slice(0, 40)})`);
    prev = lvl;
  }
  const ids = {};
  for (const e of document.querySelectorAll('[id]')) ids[e.id] = (ids[e.id] || 0) + 1;
  for (const [id, n] of Object.entries(ids)) if (n > 1) out.push(`id "${id}" used ${n} times`);
  for (const img of document.images) if (!(img.getAttribute('alt') || '').trim()) out.push('img without alt');
  for (const svg of document.querySelectorAll('figure svg')) {
    if (svg.closest('svg') !== svg) continue;
    if (svg.getAttribute('role') !== 'img') { out.push('plot svg without role=img'); continue; }
    const lab = svg.getAttribute('aria-labelledby');
    const name = svg.getAttribute('aria-label') || (lab && document.getElementById(lab) ? document.getElementById(lab).textContent : '');
    if (!name.trim()) out.push('plot svg without an accessible name');
  }
  for (const c of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const byFor = c.id && document.querySelector(`label[for="${c.id}"]`);
    if (!byFor && !c.closest('label') && !c.getAttribute('aria-label')) out.push(`control ${c.name || c.id} without label`);
  }
  for (const a of document.querySelectorAll('a[href], button')) {
    const text = (a.textContent || '').trim() || a.getAttribute('aria-label') || '';
    if (!text) out.push(`${a.tagName.toLowerCase()} without text`);
  }
  return out;
}"""

CONTRAST = r"""() => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(',').map(s => parseFloat(s)); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  const seen = new Set();
  for (const el of document.querySelectorAll('p, li, td, th, dt, dd, a, span, strong, label, button, h1, h2, h3, h4, figcaption, summary, time, code')) {
    if (el.closest('svg')) continue;
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const r = el.getBoundingClientRect(); if (r.width === 0 || r.height === 0) continue;
    const s = getComputedStyle(el); if (s.visibility === 'hidden') continue;
    const fg = parse(s.color), b = bg(el);
    const L1 = lum(fg), L2 = lum(b);
    const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    const key = `${s.color}|${b.r},${b.g},${b.b}`;
    if (ratio < need && !seen.has(key)) { seen.add(key); out.push(`contrast ${ratio.toFixed(2)} < ${need}: "${el.textContent.trim().slice(0, 30)}" (${s.color} on rgb(${b.r},${b.g},${b.b}))`); }
  }
  return out;
}"""

LAYOUT = r"""() => {
  const out = [];
  const vw = document.documentElement.clientWidth;
  const sw = document.documentElement.scrollWidth;
  if (sw > vw + 1) out.push(`page scrolls horizontally: ${sw} > ${vw}`);
  // elements sticking out of the viewport (not inside a scrolling box)
  const scrollsX = (e) => { for (let p = e.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
  let n = 0;
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width && r.right > vw + 1 && !scrollsX(e) && !e.closest('svg')) { if (n++ < 5) out.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} ends at ${Math.round(r.right)} > ${vw}`); }
  }
  // header items never overlap
  const header = document.querySelector('header');
  if (header) {
    const items = Array.from(header.querySelectorAll('a, button, strong, .brand, .who > span')).map(e => e.getBoundingClientRect()).filter(r => r.width);
    for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
      const a = items[i], b = items[j];
      const inside = (x, y) => x.left >= y.left - 0.5 && x.right <= y.right + 0.5 && x.top >= y.top - 0.5 && x.bottom <= y.bottom + 0.5;
      if (inside(a, b) || inside(b, a)) continue;  // nested (a link inside its span)
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) out.push(`header items overlap (${Math.round(w)} x ${Math.round(h)} px)`);
    }
    for (const r of items) if (r.right > vw + 1) out.push('header item outside the viewport');
  }
  // dates never break over lines
  for (const t of document.querySelectorAll('time')) {
    const rects = t.getClientRects();
    if (rects.length > 1) out.push(`date "${t.textContent}" breaks over ${rects.length} lines`);
  }
  return out;
}"""

FOCUS_VISIBLE = r"""() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const visible = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none');
  return {tag: e.tagName.toLowerCase(), text: (e.textContent || '').trim().slice(0, 30), visible};
}"""


def check_page(page, tabs: int = 6) -> list[str]:
    """Every check of the module docstring on the page as it is; returns the problems."""
    problems = page.evaluate(STRUCTURE) + page.evaluate(CONTRAST) + page.evaluate(LAYOUT)
    page.evaluate("() => { window.scrollTo(0, 0); if (document.activeElement) document.activeElement.blur(); }")
    focusable = page.evaluate("""() => Array.from(document.querySelectorAll(
        'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])'))
        .filter(e => e.getClientRects().length).length""")
    if focusable == 0:
        return problems + ["nothing on the page can take the keyboard focus"]
    reached = []
    for _ in range(min(tabs, focusable)):
        page.keyboard.press("Tab")
        f = page.evaluate(FOCUS_VISIBLE)
        if f is None:
            problems.append("Tab did not move the focus to an element")
            break
        reached.append(f)
        if not f["visible"]:
            problems.append(f"focused {f['tag']} \"{f['text']}\" has no visible focus indicator")
    if reached and len({(f["tag"], f["text"]) for f in reached}) < min(2, len(reached)):
        problems.append("Tab does not move between elements")
    return problems
