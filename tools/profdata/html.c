/*
 * html.c - `llama-profdata show --html`: an indexed profile as one
 * self-contained HTML page (inline CSS, SVG and a few lines of script; no
 * network): a summary of bytes by class, and a table of the sites with the
 * most calls (sortable by any column), each with its lifetime histogram as
 * an SVG bar chart, its class and the reason for it, and its contexts with
 * their call paths and source positions.
 *
 * Every number comes from the same fields `show --json` prints, raw (no
 * thousands separators, no units), so test/tools/show-html.test can check
 * the page against the JSON: cells carry the JSON field as their class.
 */
#include <stdlib.h>
#include <string.h>

#include "llama/abi.h"
#include "llama/profdata/indexed.h"
#include "tool.h"

/* Bar colours of classes 0..6 and "live" (short lives warm, long cold). */
static const char *const class_colours[LLAMA_HIST_SIZE] = {
    "#d7301f", "#fc8d59", "#fdcc8a", "#a1d99b", "#41ab5d", "#2b8cbe", "#084081", "#969696",
};

static void html_text(FILE *out, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", out); break;
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs("&#39;", out); break;
    default: fputc(*s, out);
    }
  }
}

static void html_location(FILE *out, const char *function, const char *file, uint32_t line,
                          uint32_t column) {
  fputs("<span class=\"fn\">", out);
  html_text(out, *function ? function : "?");
  fputs("</span>", out);
  if (*file || line) {
    fputs(" <span class=\"src\">", out);
    html_text(out, *file ? file : "?");
    fprintf(out, ":%u:%u</span>", line, column);
  }
}

/* The class as the page shows it: a number, or "-" for none. */
static void html_class(FILE *out, unsigned k) {
  if (k == LLAMA_IDX_NO_CLASS)
    fputs("<td class=\"class\" data-sort=\"-1\">-</td>", out);
  else
    fprintf(out, "<td class=\"class\" data-sort=\"%u\"><span class=\"dot\" style=\"background:%s\">"
            "</span>%u</td>", k, class_colours[k], k);
}

/* The histogram as 8 bars scaled to the tallest; a tooltip per bar. */
static void html_histogram(FILE *out, const uint64_t *h, uint64_t samples) {
  enum { BAR = 11, GAP = 2, HEIGHT = 36 };
  uint64_t max = 0;
  for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
    max = h[k] > max ? h[k] : max;
  fprintf(out, "<svg class=\"hist\" width=\"%u\" height=\"%u\" role=\"img\">",
          LLAMA_HIST_SIZE * (BAR + GAP), HEIGHT + 2);
  for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++) {
    unsigned height = max ? (unsigned)((h[k] * HEIGHT + max - 1) / max) : 0;
    fprintf(out,
            "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" fill=\"%s\" data-count=\"%llu\">"
            "<title>%s: %llu (%.1f%%)</title></rect>",
            k * (BAR + GAP), HEIGHT + 1 - height, BAR, height, class_colours[k],
            (unsigned long long)h[k], show_histogram_header(k), (unsigned long long)h[k],
            samples ? 100.0 * (double)h[k] / (double)samples : 0.0);
  }
  fprintf(out, "<line x1=\"0\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#444\"/></svg>",
          HEIGHT + 1, LLAMA_HIST_SIZE * (BAR + GAP), HEIGHT + 1);
}

/*
 * Why the site has its class, from the profile alone (the use build's final
 * decision, hints included, is in its -Rpass=llama remarks):
 *   deallocation        free, delete: no class
 *   no-samples          no class
 *   external            allocations inside code not rebuilt: only hints at
 *                       its callers can make them static
 *   context-dependent   the contexts' classes differ; the commonest class's
 *                       share of the samples decides whether the use build
 *                       falls back to it (>= 90%) where no hint helps
 *   agree               every context with samples has the site's class
 */
static void html_reason(FILE *out, const struct llama_idx_site *s) {
  if (llama_alloc_kind_is_dealloc(s->kind)) {
    fputs("<td class=\"reason\" data-reason=\"deallocation\">deallocation: no class</td>", out);
    return;
  }
  if (s->samples == 0 || s->lifetime_class == LLAMA_IDX_NO_CLASS) {
    fputs("<td class=\"reason\" data-reason=\"no-samples\">no samples: no class; the use "
          "build asks the model or takes the dynamic path</td>", out);
    return;
  }
  if (s->site_flags & LLAMA_SITE_EXTERNAL) {
    fputs("<td class=\"reason\" data-reason=\"external\">external: allocations inside code not "
          "rebuilt; hinted at the callers whose contexts agree</td>", out);
    return;
  }
  uint64_t by_class[LLAMA_NUM_CLASSES] = {0}, classified = 0;
  uint32_t with_samples = 0;
  for (uint32_t c = 0; c < s->context_count; c++) {
    const struct llama_idx_context *cx = &s->contexts[c];
    if (cx->lifetime_class == LLAMA_IDX_NO_CLASS)
      continue;
    by_class[cx->lifetime_class] += cx->samples;
    classified += cx->samples;
    with_samples++;
  }
  if (s->flags & LLAMA_IDX_SITE_CONTEXT_DEPENDENT) {
    unsigned top = 0;
    for (unsigned k = 1; k < LLAMA_NUM_CLASSES; k++)
      top = by_class[k] > by_class[top] ? k : top;
    fprintf(out,
            "<td class=\"reason\" data-reason=\"context-dependent\">context-dependent: %u "
            "contexts, class %u in %.1f%% of their samples; hinted at callers, else that "
            "class or the dynamic path</td>",
            with_samples, top, classified ? 100.0 * (double)by_class[top] / (double)classified
                                          : 0.0);
    return;
  }
  fprintf(out, "<td class=\"reason\" data-reason=\"agree\">%u context%s agree%s: static</td>",
          with_samples, with_samples == 1 ? "" : "s", with_samples == 1 ? "s" : "");
}

static void html_contexts(FILE *out, const struct llama_idx_site *s,
                          const struct show_options *opt) {
  size_t limit = opt->contexts ? opt->contexts : opt->all ? 0 : SHOW_HTML_CONTEXTS;
  uint32_t listed = limit && limit < s->context_count ? (uint32_t)limit : s->context_count;
  if (!s->context_count) {
    fputs("<td class=\"contexts\">none</td>", out);
    return;
  }
  const struct llama_idx_context **ctx = xcalloc(s->context_count, sizeof *ctx);
  for (uint32_t c = 0; c < s->context_count; c++)
    ctx[c] = &s->contexts[c];
  qsort(ctx, s->context_count, sizeof *ctx, show_compare_contexts);
  fprintf(out, "<td class=\"contexts\" data-sort=\"%u\"><details><summary>%u context%s"
          "</summary><table class=\"ctx\"><tr><th>context</th><th>samples</th><th>calls</th>"
          "<th>class</th><th>histogram</th><th>call path (innermost first)</th></tr>",
          s->context_count, s->context_count, s->context_count == 1 ? "" : "s");
  for (uint32_t c = 0; c < listed; c++) {
    const struct llama_idx_context *cx = ctx[c];
    fprintf(out, "<tr class=\"context\" data-id=\"0x%016llx\"><td class=\"id\">0x%016llx</td>"
            "<td class=\"samples\">%llu</td><td class=\"calls\">%llu</td>",
            (unsigned long long)cx->context_id, (unsigned long long)cx->context_id,
            (unsigned long long)cx->samples, (unsigned long long)cx->calls);
    html_class(out, cx->lifetime_class);
    fputs("<td class=\"histogram\">", out);
    html_histogram(out, cx->histogram, cx->samples);
    fputs("</td><td class=\"frames\"><ol>", out);
    uint32_t depth = opt->depth && opt->depth < cx->frame_count ? (uint32_t)opt->depth
                                                                 : cx->frame_count;
    for (uint32_t f = 0; f < depth; f++) {
      const struct llama_idx_frame *fr = &cx->frames[f];
      fputs("<li class=\"frame\">", out);
      html_location(out, fr->function, fr->file, fr->line, fr->column);
      if (fr->flags & LLAMA_IDX_FRAME_INLINED)
        fputs(" <i>inlined</i>", out);
      if (fr->flags & LLAMA_IDX_FRAME_FROM_SITE)
        fputs(" <i>from site</i>", out);
      fputs("</li>", out);
    }
    if (depth < cx->frame_count)
      fprintf(out, "<li class=\"more\">%u more frames</li>", cx->frame_count - depth);
    fputs("</ol></td></tr>", out);
  }
  fputs("</table>", out);
  if (listed < s->context_count)
    fprintf(out, "<p class=\"more\">%u more contexts (--all lists them)</p>",
            s->context_count - listed);
  fputs("</details></td>", out);
  free(ctx);
}

static void html_summary(FILE *out, const struct llama_idx *idx) {
  /* Row k < LLAMA_NUM_CLASSES: sites of class k; the last row: no class. */
  uint64_t bytes[LLAMA_NUM_CLASSES + 1] = {0}, calls[LLAMA_NUM_CLASSES + 1] = {0}, total = 0;
  size_t sites[LLAMA_NUM_CLASSES + 1] = {0};
  for (size_t i = 0; i < llama_idx_site_count(idx); i++) {
    const struct llama_idx_site *s = llama_idx_site_at(idx, i);
    unsigned row = s->lifetime_class == LLAMA_IDX_NO_CLASS ? LLAMA_NUM_CLASSES : s->lifetime_class;
    bytes[row] += s->bytes;
    calls[row] += s->calls;
    sites[row]++;
    total += s->bytes;
  }
  fputs("<h2>Bytes by class</h2><svg class=\"share\" width=\"800\" height=\"22\" role=\"img\">",
        out);
  double x = 0;
  for (unsigned row = 0; row <= LLAMA_NUM_CLASSES; row++) {
    double width = total ? 800.0 * (double)bytes[row] / (double)total : 0;
    if (width > 0)
      fprintf(out, "<rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"22\" fill=\"%s\">"
              "<title>%s: %.1f%%</title></rect>", x, width,
              row < LLAMA_NUM_CLASSES ? class_colours[row] : "#ffffff",
              row < LLAMA_NUM_CLASSES ? llama_class_name(row) : "no class",
              100.0 * (double)bytes[row] / (double)total);
    x += width;
  }
  fputs("</svg><table id=\"summary\"><thead><tr><th>class</th><th>lifetime</th><th>sites</th>"
        "<th>calls</th><th>bytes</th><th>share of bytes</th></tr></thead><tbody>", out);
  for (unsigned row = 0; row <= LLAMA_NUM_CLASSES; row++) {
    if (row < LLAMA_NUM_CLASSES)
      fprintf(out, "<tr data-class=\"%u\"><td><span class=\"dot\" style=\"background:%s\">"
              "</span>%u</td><td>%s</td>", row, class_colours[row], row, llama_class_name(row));
    else
      fputs("<tr data-class=\"none\"><td>-</td><td>no class</td>", out);
    fprintf(out, "<td class=\"sites\">%zu</td><td class=\"calls\">%llu</td>"
            "<td class=\"bytes\">%llu</td><td class=\"share\">%.1f%%</td></tr>",
            sites[row], (unsigned long long)calls[row], (unsigned long long)bytes[row],
            total ? 100.0 * (double)bytes[row] / (double)total : 0.0);
  }
  fputs("</tbody></table>", out);
}

static const char page_style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}"
    "td.calls,td.bytes,td.samples,td.sites,td.share,td.class{text-align:right}"
    "#sites th{cursor:pointer;background:#eef;user-select:none}"
    "#sites th[data-dir=asc]::after{content:' \\25b2'}#sites th[data-dir=desc]::after{content:' \\25bc'}"
    ".dot{display:inline-block;width:.8em;height:.8em;border-radius:50%;margin-right:.3em}"
    ".fn{font-family:monospace}.src{color:#555;font-family:monospace}"
    "td.id{font-family:monospace}ol{margin:0;padding-left:1.5em}table.ctx{font-size:13px}"
    ".meta td{border:none;padding:0 1em 0 0}.legend span{margin-right:1em}";

/* Sorts the sites table by the clicked column: data-sort or the cell's text,
 * as numbers when both are numbers. */
static const char page_script[] =
    "document.querySelectorAll('#sites th').forEach(function(th,col){"
    "th.addEventListener('click',function(){"
    "var body=document.querySelector('#sites tbody'),rows=Array.prototype.slice.call(body.rows);"
    "var dir=th.getAttribute('data-dir')==='desc'?'asc':'desc';"
    "document.querySelectorAll('#sites th').forEach(function(h){h.removeAttribute('data-dir');});"
    "th.setAttribute('data-dir',dir);"
    "function key(r){var c=r.cells[col];return c.hasAttribute('data-sort')?"
    "c.getAttribute('data-sort'):c.textContent;}"
    "var num=/^-?[0-9]+(\\.[0-9]+)?$/;"
    "rows.sort(function(a,b){var x=key(a),y=key(b);"
    "var d=num.test(x)&&num.test(y)?parseFloat(x)-parseFloat(y):x.localeCompare(y);"
    "return dir==='asc'?d:-d;});"
    "rows.forEach(function(r){body.appendChild(r);});});});";

void show_indexed_html(FILE *out, const char *path, const struct llama_idx *idx,
                       const struct llama_idx_site **order, size_t shown,
                       const struct show_options *opt) {
  const struct llama_idx_meta *m = llama_idx_get_meta(idx);
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>LLAMA profile ",
        out);
  html_text(out, path);
  fprintf(out, "</title><style>%s</style></head><body>\n<h1>LLAMA profile <code>", page_style);
  html_text(out, path);
  fprintf(out, "</code></h1>\n<table class=\"meta\"><tr><td>raw profiles</td>"
          "<td class=\"raw_profiles\">%llu</td></tr><tr><td>samples</td>"
          "<td class=\"total_samples\">%llu</td></tr><tr><td>calls</td>"
          "<td class=\"total_calls\">%llu</td></tr><tr><td>bytes</td>"
          "<td class=\"total_bytes\">%llu</td></tr><tr><td>sample period</td>"
          "<td class=\"sample_period\">%llu</td></tr><tr><td>quantile</td>"
          "<td class=\"quantile\">%.6g</td></tr><tr><td>sites</td>"
          "<td class=\"site_count\">%zu</td></tr><tr><td>contexts</td>"
          "<td class=\"context_count\">%zu</td></tr><tr><td>written by</td><td>",
          (unsigned long long)m->profile_count, (unsigned long long)m->total_samples,
          (unsigned long long)m->total_calls, (unsigned long long)m->total_bytes,
          (unsigned long long)m->sample_period, m->quantile_ppm / 1e6, llama_idx_site_count(idx),
          llama_idx_context_count(idx));
  html_text(out, *m->tool_version ? m->tool_version : "?");
  fputs("</td></tr></table>\n<p class=\"legend\">", out);
  for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
    fprintf(out, "<span><span class=\"dot\" style=\"background:%s\"></span>%s</span>",
            class_colours[k], k < LLAMA_NUM_CLASSES ? llama_class_name(k) : "live at exit");
  fputs("</p>\n", out);
  html_summary(out, idx);

  fprintf(out, "\n<h2>Sites</h2><p id=\"shown\" data-shown=\"%zu\" data-total=\"%zu\">", shown,
          llama_idx_site_count(idx));
  if (shown < llama_idx_site_count(idx))
    fprintf(out, "The %zu sites with the most calls of %zu (--all shows every site).", shown,
            llama_idx_site_count(idx));
  else
    fprintf(out, "All %zu sites.", shown);
  fputs(" Click a column to sort; a site's contexts open below its count.</p>\n"
        "<table id=\"sites\"><thead><tr><th>#</th><th>site</th><th>kind</th><th>calls</th>"
        "<th>bytes</th><th>samples</th><th>histogram</th><th>class</th><th>reason</th>"
        "<th>location</th><th>contexts</th></tr></thead><tbody>\n", out);
  for (size_t i = 0; i < shown; i++) {
    const struct llama_idx_site *s = order[i];
    char kbuf[24];
    fprintf(out, "<tr class=\"site\" data-id=\"0x%016llx\"><td>%zu</td>"
            "<td class=\"id\">0x%016llx</td><td class=\"kind\">", (unsigned long long)s->site_id,
            i + 1, (unsigned long long)s->site_id);
    html_text(out, show_kind_name(s->kind, kbuf, sizeof kbuf));
    fprintf(out, "</td><td class=\"calls\">%llu</td><td class=\"bytes\">%llu</td>"
            "<td class=\"samples\">%llu</td><td class=\"histogram\" data-sort=\"%llu\">",
            (unsigned long long)s->calls, (unsigned long long)s->bytes,
            (unsigned long long)s->samples, (unsigned long long)s->samples);
    html_histogram(out, s->histogram, s->samples);
    fputs("</td>", out);
    html_class(out, s->lifetime_class);
    html_reason(out, s);
    fputs("<td class=\"location\">", out);
    if (s->site_flags & LLAMA_SITE_EXTERNAL) {
      fputs("&lt;external ", out);
      html_text(out, show_kind_name(s->kind, kbuf, sizeof kbuf));
      fputs("&gt;", out);
    } else {
      html_location(out, s->function, s->file, s->line, s->column);
    }
    if (*s->inlined_at) {
      fputs(" <i>inlined at</i> <span class=\"fn\">", out);
      html_text(out, s->inlined_at);
      fputs("</span>", out);
    }
    fputs("</td>", out);
    html_contexts(out, s, opt);
    fputs("</tr>\n", out);
  }
  fprintf(out, "</tbody></table>\n<script>%s</script>\n</body></html>\n", page_script);
}
