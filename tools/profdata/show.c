/*
 * show.c - `llama-profdata show`: prints an indexed profile (sites sorted by
 * calls, each with its lifetime distribution, class and contexts) or a raw
 * profile (header, modules, sites, stack and sample counts), as a table or as
 * one JSON document (schema in docs/profile-format-indexed.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "llama/profdata/indexed.h"
#include "llama/abi.h"
#include "llama/raw_profile.h"
#include "llama/profdata/raw_reader.h"
#include "tool.h"

/* Column k of a histogram: the upper bound of class k, ">1000s" (above the
 * last finite bound) for the last class, "live" for objects live at exit. */
const char *show_histogram_header(unsigned k) {
  static char longest[16];
  if (k == LLAMA_HIST_LIVE)
    return "live";
  if (k + 1 < LLAMA_NUM_CLASSES)
    return llama_class_bound_label(k);
  snprintf(longest, sizeof longest, ">%s", llama_class_bound_label(LLAMA_NUM_CLASSES - 2));
  return longest;
}

const char *show_kind_name(unsigned kind, char *buf, size_t cap) {
  const char *name = llama_alloc_kind_name(kind);
  if (name)
    return name;
  if (kind == UINT16_MAX)
    return "?";
  snprintf(buf, cap, "kind%u", kind);
  return buf;
}

/* ---- JSON output ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_length(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80)
    return 1;
  if ((c & 0xe0) == 0xc0) {
    len = 2;
    min = 0x80;
    c &= 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3;
    min = 0x800;
    c &= 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4;
    min = 0x10000;
    c &= 0x07;
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = c << 6 | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
    return 0;
  return len;
}

/* Writes s as a JSON string: escapes quotes, backslashes and control
 * characters; bytes that are not valid UTF-8 become \u00XX. */
static void json_str(FILE *out, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s);
  fputc('"', out);
  while (n) {
    unsigned c = *p;
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc((int)c, out);
    } else if (c == '\n') {
      fputs("\\n", out);
    } else if (c == '\t') {
      fputs("\\t", out);
    } else if (c == '\r') {
      fputs("\\r", out);
    } else if (c < 0x20 || c == 0x7f) {
      fprintf(out, "\\u%04x", c);
    } else if (c >= 0x80) {
      size_t len = utf8_length(p, n);
      if (!len) {
        fprintf(out, "\\u%04x", c);
      } else {
        fwrite(p, 1, len, out);
        p += len;
        n -= len;
        continue;
      }
    } else {
      fputc((int)c, out);
    }
    p++;
    n--;
  }
  fputc('"', out);
}

static void json_id(FILE *out, uint64_t id) {
  fprintf(out, "\"0x%016llx\"", (unsigned long long)id);
}

static void json_histogram(FILE *out, const uint64_t *h) {
  fputc('[', out);
  for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
    fprintf(out, "%s%llu", k ? ", " : "", (unsigned long long)h[k]);
  fputc(']', out);
}

static void json_class(FILE *out, unsigned k) {
  if (k == LLAMA_IDX_NO_CLASS)
    fputs("null", out);
  else
    fprintf(out, "%u", k);
}

/* ---- sorting ---- */

static int compare_sites_by_calls(const void *a, const void *b) {
  const struct llama_idx_site *x = *(const struct llama_idx_site *const *)a;
  const struct llama_idx_site *y = *(const struct llama_idx_site *const *)b;
  if (x->calls != y->calls)
    return x->calls > y->calls ? -1 : 1;
  if (x->samples != y->samples)
    return x->samples > y->samples ? -1 : 1;
  return x->site_id < y->site_id ? -1 : x->site_id > y->site_id;
}

int show_compare_contexts(const void *a, const void *b) {
  const struct llama_idx_context *x = *(const struct llama_idx_context *const *)a;
  const struct llama_idx_context *y = *(const struct llama_idx_context *const *)b;
  if (x->samples != y->samples)
    return x->samples > y->samples ? -1 : 1;
  return x->context_id < y->context_id ? -1 : x->context_id > y->context_id;
}

/* ---- indexed: text ---- */

/* A site's location: "<external malloc>" for an external pseudo-site
 * (allocations by code the pass did not rewrite; no source position). */
static void print_site_location(FILE *out, const char *function, const char *file, uint32_t line,
                                uint32_t column, unsigned kind, unsigned site_flags);

static void print_location(FILE *out, const char *function, const char *file, uint32_t line,
                           uint32_t column) {
  fputs(*function ? function : "?", out);
  if (*file || line)
    fprintf(out, " (%s:%u:%u)", *file ? file : "?", line, column);
}

static void print_site_location(FILE *out, const char *function, const char *file, uint32_t line,
                                uint32_t column, unsigned kind, unsigned site_flags) {
  if (site_flags & LLAMA_SITE_EXTERNAL) {
    char kbuf[24];
    fprintf(out, "<external %s>", show_kind_name(kind, kbuf, sizeof kbuf));
    return;
  }
  print_location(out, function, file, line, column);
}

static void print_frames(FILE *out, const struct llama_idx_context *c, size_t depth) {
  if (!c->frame_count) {
    fputs("(no frames)", out);
    return;
  }
  uint32_t n = depth && depth < c->frame_count ? (uint32_t)depth : c->frame_count;
  for (uint32_t f = 0; f < n; f++) {
    const struct llama_idx_frame *fr = &c->frames[f];
    if (f)
      fputs(" < ", out);
    print_location(out, fr->function, fr->file, fr->line, fr->column);
    if (fr->flags & LLAMA_IDX_FRAME_INLINED)
      fputs(" [inlined]", out);
    if (fr->flags & LLAMA_IDX_FRAME_FROM_SITE)
      fputs(" [from site]", out);
  }
  if (n < c->frame_count)
    fprintf(out, " < ... (%u more)", c->frame_count - n);
}

static void print_percentages(FILE *out, const uint64_t *h, uint64_t samples) {
  for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++) {
    if (samples)
      fprintf(out, " %6.1f", 100.0 * (double)h[k] / (double)samples);
    else
      fprintf(out, " %6s", "-");
  }
}

static void show_indexed_text(FILE *out, const char *path, const struct llama_idx *idx,
                              const struct llama_idx_site **order, size_t shown,
                              const struct show_options *opt) {
  const struct llama_idx_meta *m = llama_idx_get_meta(idx);
  fprintf(out,
          "%s: indexed profile version %u, %llu raw profiles, %llu samples, sample period "
          "%llu, quantile %.2f, %zu sites, %zu contexts (written by %s)\n",
          path, m->version, (unsigned long long)m->profile_count,
          (unsigned long long)m->total_samples, (unsigned long long)m->sample_period,
          m->quantile_ppm / 1e6, llama_idx_site_count(idx), llama_idx_context_count(idx),
          *m->tool_version ? m->tool_version : "?");
  fprintf(out, "lifetime classes:");
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++)
    fprintf(out, "%s %u %s", k ? "," : "", k, llama_class_name(k));
  fprintf(out, " or live at exit; columns give %% of samples; * = class depends on "
               "the calling context\n\n");
  fprintf(out, "%-18s %-12s %12s %14s %8s", "SITE", "KIND", "CALLS", "BYTES", "SAMPLES");
  for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
    fprintf(out, " %6s", show_histogram_header(k));
  fprintf(out, "  %-5s  %s\n", "CLASS", "LOCATION");
  for (size_t i = 0; i < shown; i++) {
    const struct llama_idx_site *s = order[i];
    char kbuf[24], cbuf[8];
    fprintf(out, "0x%016llx %-12s %12llu %14llu %8llu", (unsigned long long)s->site_id,
            show_kind_name(s->kind, kbuf, sizeof kbuf), (unsigned long long)s->calls,
            (unsigned long long)s->bytes, (unsigned long long)s->samples);
    print_percentages(out, s->histogram, s->samples);
    if (s->lifetime_class == LLAMA_IDX_NO_CLASS)
      snprintf(cbuf, sizeof cbuf, "-");
    else
      snprintf(cbuf, sizeof cbuf, "%u%s", s->lifetime_class,
               (s->flags & LLAMA_IDX_SITE_CONTEXT_DEPENDENT) ? "*" : "");
    fprintf(out, "  %-5s  ", cbuf);
    print_site_location(out, s->function, s->file, s->line, s->column, s->kind, s->site_flags);
    if (*s->inlined_at)
      fprintf(out, " inlined at %s", s->inlined_at);
    if (s->flags & LLAMA_IDX_SITE_UNREGISTERED)
      fputs(" [unregistered]", out);
    fputc('\n', out);

    const struct llama_idx_context **ctx = xcalloc(s->context_count, sizeof *ctx);
    for (uint32_t c = 0; c < s->context_count; c++)
      ctx[c] = &s->contexts[c];
    qsort(ctx, s->context_count, sizeof *ctx, show_compare_contexts);
    uint32_t listed = opt->contexts && opt->contexts < s->context_count ? (uint32_t)opt->contexts
                                                                        : s->context_count;
    for (uint32_t c = 0; c < listed; c++) {
      const struct llama_idx_context *cx = ctx[c];
      if (cx->lifetime_class == LLAMA_IDX_NO_CLASS)
        snprintf(cbuf, sizeof cbuf, "-");
      else
        snprintf(cbuf, sizeof cbuf, "%u", cx->lifetime_class);
      fprintf(out,
              "    context 0x%016llx samples %llu class %s: ", (unsigned long long)cx->context_id,
              (unsigned long long)cx->samples, cbuf);
      print_frames(out, cx, opt->depth);
      fputc('\n', out);
    }
    if (listed < s->context_count)
      fprintf(out, "    (%u more contexts; --contexts=N limits the listing)\n",
              s->context_count - listed);
    free(ctx);
  }
  if (shown < llama_idx_site_count(idx))
    fprintf(out, "(%zu more sites; --top=N limits the listing)\n",
            llama_idx_site_count(idx) - shown);
}

/* ---- indexed: JSON ---- */

static void show_indexed_json(FILE *out, const char *path, const struct llama_idx *idx,
                              const struct llama_idx_site **order, size_t shown) {
  const struct llama_idx_meta *m = llama_idx_get_meta(idx);
  fputs("{\n  \"file\": ", out);
  json_str(out, path);
  fprintf(out, ",\n  \"format\": \"llama-indexed-profile\",\n  \"version\": %u,\n", m->version);
  fprintf(out,
          "  \"meta\": {\"raw_profiles\": %llu, \"total_samples\": %llu, \"total_calls\": "
          "%llu, \"total_bytes\": %llu, \"sample_period\": %llu, \"quantile\": %.6g, "
          "\"tool_version\": ",
          (unsigned long long)m->profile_count, (unsigned long long)m->total_samples,
          (unsigned long long)m->total_calls, (unsigned long long)m->total_bytes,
          (unsigned long long)m->sample_period, m->quantile_ppm / 1e6);
  json_str(out, m->tool_version);
  fputs(", \"class_bounds_ns\": [", out);
  for (unsigned k = 0; k + 1 < LLAMA_NUM_CLASSES; k++)
    fprintf(out, "%s%llu", k ? ", " : "", (unsigned long long)llama_class_upper_bound_ns(k));
  fprintf(out, "], \"site_count\": %zu, \"context_count\": %zu},\n", llama_idx_site_count(idx),
          llama_idx_context_count(idx));
  fputs("  \"sites\": [", out);
  for (size_t i = 0; i < shown; i++) {
    const struct llama_idx_site *s = order[i];
    char kbuf[24];
    fputs(i ? ",\n    {" : "\n    {", out);
    fputs("\"id\": ", out);
    json_id(out, s->site_id);
    fputs(", \"kind\": ", out);
    json_str(out, show_kind_name(s->kind, kbuf, sizeof kbuf));
    fprintf(out, ", \"calls\": %llu, \"bytes\": %llu, \"samples\": %llu, \"sampled_bytes\": %llu",
            (unsigned long long)s->calls, (unsigned long long)s->bytes,
            (unsigned long long)s->samples, (unsigned long long)s->sampled_bytes);
    fputs(", \"histogram\": ", out);
    json_histogram(out, s->histogram);
    fputs(", \"class\": ", out);
    json_class(out, s->lifetime_class);
    fprintf(out, ", \"context_dependent\": %s, \"registered\": %s",
            (s->flags & LLAMA_IDX_SITE_CONTEXT_DEPENDENT) ? "true" : "false",
            (s->flags & LLAMA_IDX_SITE_UNREGISTERED) ? "false" : "true");
    fputs(", \"function\": ", out);
    json_str(out, s->function);
    fputs(", \"file\": ", out);
    json_str(out, s->file);
    fprintf(out, ", \"line\": %u, \"column\": %u, \"line_offset\": %u, \"inlined_at\": ", s->line,
            s->column, s->line_offset);
    json_str(out, s->inlined_at);
    fprintf(out, ", \"site_flags\": %u,\n     \"contexts\": [", s->site_flags);
    for (uint32_t c = 0; c < s->context_count; c++) {
      const struct llama_idx_context *cx = &s->contexts[c];
      fputs(c ? ",\n       {" : "\n       {", out);
      fputs("\"id\": ", out);
      json_id(out, cx->context_id);
      fprintf(out, ", \"samples\": %llu, \"calls\": %llu, \"bytes\": %llu, \"sampled_bytes\": %llu",
              (unsigned long long)cx->samples, (unsigned long long)cx->calls,
              (unsigned long long)cx->bytes, (unsigned long long)cx->sampled_bytes);
      fputs(", \"histogram\": ", out);
      json_histogram(out, cx->histogram);
      fputs(", \"class\": ", out);
      json_class(out, cx->lifetime_class);
      fputs(", \"frames\": [", out);
      for (uint32_t f = 0; f < cx->frame_count; f++) {
        const struct llama_idx_frame *fr = &cx->frames[f];
        fputs(f ? ", {\"function\": " : "{\"function\": ", out);
        json_str(out, fr->function);
        fputs(", \"file\": ", out);
        json_str(out, fr->file);
        fprintf(out,
                ", \"line\": %u, \"column\": %u, \"line_offset\": %u, \"inlined\": %s, "
                "\"symbolized\": %s, \"from_site\": %s}",
                fr->line, fr->column, fr->line_offset,
                (fr->flags & LLAMA_IDX_FRAME_INLINED) ? "true" : "false",
                (fr->flags & LLAMA_IDX_FRAME_UNSYMBOLIZED) ? "false" : "true",
                (fr->flags & LLAMA_IDX_FRAME_FROM_SITE) ? "true" : "false");
      }
      fputs("]}", out);
    }
    fputs(s->context_count ? "\n     ]}" : "]}", out);
  }
  fputs(shown ? "\n  ]\n}\n" : "]\n}\n", out);
}

static int show_indexed(FILE *out, const struct show_options *opt, const char *path,
                        const struct llama_idx *idx) {
  size_t n = llama_idx_site_count(idx);
  const struct llama_idx_site **order = xcalloc(n, sizeof *order);
  for (size_t i = 0; i < n; i++)
    order[i] = llama_idx_site_at(idx, i);
  qsort(order, n, sizeof *order, compare_sites_by_calls);
  size_t top = opt->top ? opt->top : opt->html && !opt->all ? SHOW_HTML_TOP : 0;
  size_t shown = top && top < n ? top : n;
  if (opt->html)
    show_indexed_html(out, path, idx, order, shown, opt);
  else if (opt->json)
    show_indexed_json(out, path, idx, order, shown);
  else
    show_indexed_text(out, path, idx, order, shown, opt);
  free(order);
  return 0;
}

/* ---- raw ---- */

struct raw_site_view {
  const struct llama_raw_site_info *site;
  uint64_t id, calls, bytes, samples;
};

static int compare_raw_sites(const void *a, const void *b) {
  const struct raw_site_view *x = a, *y = b;
  if (x->calls != y->calls)
    return x->calls > y->calls ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Per-site view: SITES entries (duplicates summed) plus sites that only
 * samples name. */
static struct raw_site_view *raw_sites(const struct llama_raw_profile *pr, size_t *count,
                                       uint64_t *unregistered_samples) {
  struct raw_site_view *v = xcalloc(pr->site_count + pr->sample_count, sizeof *v);
  struct map index = {0};
  size_t n = 0;
  for (size_t i = 0; i < pr->site_count; i++) {
    const struct llama_raw_site_info *s = &pr->sites[i];
    uint32_t at = map_get(&index, s->id, 0);
    if (at == UINT32_MAX) {
      at = (uint32_t)n++;
      map_put(&index, s->id, 0, at);
      v[at].site = s;
      v[at].id = s->id;
    }
    v[at].calls += s->count;
    v[at].bytes += s->bytes;
  }
  *unregistered_samples = 0;
  for (size_t i = 0; i < pr->sample_count; i++) {
    uint64_t id = pr->samples[i].site_id;
    uint32_t at = map_get(&index, id, 0);
    if (at == UINT32_MAX) {
      at = (uint32_t)n++;
      map_put(&index, id, 0, at);
      v[at].id = id;
    }
    if (!v[at].site)
      (*unregistered_samples)++;
    v[at].samples++;
  }
  map_free(&index);
  qsort(v, n, sizeof *v, compare_raw_sites);
  *count = n;
  return v;
}

static void raw_flags(char *buf, size_t cap, uint32_t flags) {
  snprintf(buf, cap, "%s%s%s", flags & LLAMA_RAW_F_DUMP ? " dump" : "",
           flags & LLAMA_RAW_F_FORKED ? " forked" : "",
           flags & ~(LLAMA_RAW_F_DUMP | LLAMA_RAW_F_FORKED) ? " other" : "");
  if (!buf[0])
    snprintf(buf, cap, " none");
}

static void show_raw_text(FILE *out, const char *path, const struct llama_raw_profile *pr) {
  char flags[64];
  raw_flags(flags, sizeof flags, pr->flags);
  double seconds = pr->end_ns >= pr->start_ns ? (double)(pr->end_ns - pr->start_ns) / 1e9 : 0;
  fprintf(out, "%s: raw profile version %u, pid %llu, sample period %llu, %.3f s, flags:%s\n", path,
          pr->version, (unsigned long long)pr->pid, (unsigned long long)pr->sample_period, seconds,
          flags);
  if (pr->unknown_sections)
    fprintf(out, "(skipped %u section%s of unknown kind)\n", pr->unknown_sections,
            pr->unknown_sections == 1 ? "" : "s");
  fprintf(out, "meta (%zu):\n", pr->meta_count);
  for (size_t i = 0; i < pr->meta_count; i++)
    fprintf(out, "  %s = %s\n", pr->meta[i].key, pr->meta[i].value);
  fprintf(out, "modules (%zu):\n", pr->module_count);
  for (size_t i = 0; i < pr->module_count; i++) {
    const struct llama_raw_module_info *m = &pr->modules[i];
    fprintf(out, "  0x%012llx-0x%012llx bias 0x%llx build-id ", (unsigned long long)m->start,
            (unsigned long long)m->end, (unsigned long long)m->load_bias);
    if (!m->build_id_len)
      fputs("none", out);
    for (uint32_t b = 0; b < m->build_id_len; b++)
      fprintf(out, "%02x", m->build_id[b]);
    fprintf(out, " %s\n", *m->path ? m->path : "(no path)");
  }
  size_t nsites;
  uint64_t unregistered;
  struct raw_site_view *v = raw_sites(pr, &nsites, &unregistered);
  fprintf(out, "sites (%zu):\n", nsites);
  fprintf(out, "  %-18s %-12s %12s %14s %8s  %s\n", "SITE", "KIND", "CALLS", "BYTES", "SAMPLES",
          "LOCATION");
  for (size_t i = 0; i < nsites; i++) {
    const struct llama_raw_site_info *s = v[i].site;
    char kbuf[24];
    fprintf(out, "  0x%016llx %-12s %12llu %14llu %8llu  ", (unsigned long long)v[i].id,
            s ? show_kind_name(s->kind, kbuf, sizeof kbuf) : "?", (unsigned long long)v[i].calls,
            (unsigned long long)v[i].bytes, (unsigned long long)v[i].samples);
    if (s) {
      print_site_location(out, s->function, s->file, s->line, s->column, s->kind, s->flags);
      if (*s->inlined_at)
        fprintf(out, " inlined at %s", s->inlined_at);
    } else {
      fputs("[unregistered]", out);
    }
    fputc('\n', out);
  }
  free(v);
  uint32_t deepest = 0;
  for (size_t i = 0; i < pr->stack_count; i++)
    if (pr->stacks[i].depth > deepest)
      deepest = pr->stacks[i].depth;
  fprintf(out, "stacks: %zu (deepest %u frames)\n", pr->stack_count, deepest);
  uint64_t live = 0, realloced = 0, inherited = 0, unseen = 0;
  for (size_t i = 0; i < pr->sample_count; i++) {
    const struct llama_raw_sample_info *s = &pr->samples[i];
    live += (s->flags & LLAMA_RAW_S_LIVE) || s->free_ns == LLAMA_RAW_NOT_FREED;
    realloced += (s->flags & LLAMA_RAW_S_REALLOCATED) != 0;
    inherited += (s->flags & LLAMA_RAW_S_INHERITED) != 0;
    unseen += (s->flags & LLAMA_RAW_S_FREE_UNSEEN) != 0;
  }
  fprintf(out,
          "samples: %zu (%llu live at exit, %llu ended by realloc, %llu freed unseen, %llu "
          "inherited from the parent, %llu of unregistered sites)\n",
          pr->sample_count, (unsigned long long)live, (unsigned long long)realloced,
          (unsigned long long)unseen, (unsigned long long)inherited,
          (unsigned long long)unregistered);
}

static void show_raw_json(FILE *out, const char *path, const struct llama_raw_profile *pr) {
  fputs("{\n  \"file\": ", out);
  json_str(out, path);
  fprintf(out,
          ",\n  \"format\": \"llama-raw-profile\",\n  \"version\": %u,\n  \"header\": {\"pid\": "
          "%llu, \"start_ns\": %llu, \"end_ns\": %llu, \"sample_period\": %llu, \"flags\": %u, "
          "\"sections\": %u, \"unknown_sections\": %u},\n",
          pr->version, (unsigned long long)pr->pid, (unsigned long long)pr->start_ns,
          (unsigned long long)pr->end_ns, (unsigned long long)pr->sample_period, pr->flags,
          pr->section_count, pr->unknown_sections);
  fputs("  \"meta\": {", out);
  for (size_t i = 0; i < pr->meta_count; i++) {
    fputs(i ? ", " : "", out);
    json_str(out, pr->meta[i].key);
    fputs(": ", out);
    json_str(out, pr->meta[i].value);
  }
  fputs("},\n  \"modules\": [", out);
  for (size_t i = 0; i < pr->module_count; i++) {
    const struct llama_raw_module_info *m = &pr->modules[i];
    fprintf(out, "%s{\"path\": ", i ? ",\n    " : "\n    ");
    json_str(out, m->path);
    fprintf(out,
            ", \"start\": \"0x%llx\", \"end\": \"0x%llx\", \"load_bias\": \"0x%llx\", "
            "\"build_id\": \"",
            (unsigned long long)m->start, (unsigned long long)m->end,
            (unsigned long long)m->load_bias);
    for (uint32_t b = 0; b < m->build_id_len; b++)
      fprintf(out, "%02x", m->build_id[b]);
    fputs("\"}", out);
  }
  fputs(pr->module_count ? "\n  ],\n  \"sites\": [" : "],\n  \"sites\": [", out);
  size_t nsites;
  uint64_t unregistered;
  struct raw_site_view *v = raw_sites(pr, &nsites, &unregistered);
  for (size_t i = 0; i < nsites; i++) {
    const struct llama_raw_site_info *s = v[i].site;
    char kbuf[24];
    fputs(i ? ",\n    {\"id\": " : "\n    {\"id\": ", out);
    json_id(out, v[i].id);
    fputs(", \"kind\": ", out);
    json_str(out, s ? show_kind_name(s->kind, kbuf, sizeof kbuf) : "?");
    fprintf(out, ", \"calls\": %llu, \"bytes\": %llu, \"samples\": %llu, \"registered\": %s",
            (unsigned long long)v[i].calls, (unsigned long long)v[i].bytes,
            (unsigned long long)v[i].samples, s ? "true" : "false");
    if (s) {
      fputs(", \"function\": ", out);
      json_str(out, s->function);
      fputs(", \"file\": ", out);
      json_str(out, s->file);
      fprintf(out,
              ", \"line\": %u, \"column\": %u, \"line_offset\": %u, \"site_flags\": %u, "
              "\"inlined_at\": ",
              s->line, s->column, s->line_offset, s->flags);
      json_str(out, s->inlined_at);
    }
    fputc('}', out);
  }
  free(v);
  uint64_t live = 0;
  for (size_t i = 0; i < pr->sample_count; i++)
    live +=
        (pr->samples[i].flags & LLAMA_RAW_S_LIVE) || pr->samples[i].free_ns == LLAMA_RAW_NOT_FREED;
  fprintf(out,
          "%s],\n  \"stacks\": %zu,\n  \"samples\": %zu,\n  \"live_samples\": %llu,\n"
          "  \"unregistered_samples\": %llu\n}\n",
          nsites ? "\n  " : "", pr->stack_count, pr->sample_count, (unsigned long long)live,
          (unsigned long long)unregistered);
}

/* Opens -o FILE (or takes standard output). */
static FILE *open_output(const struct show_options *opt) {
  if (!opt->output)
    return stdout;
  FILE *out = fopen(opt->output, "w");
  if (!out)
    tool_error("cannot write %s: %s", opt->output, strerror(errno));
  return out;
}

/* Closes -o FILE (flushes standard output); reports a failed write. */
static int close_output(const struct show_options *opt, FILE *out, int rc) {
  const char *name = opt->output ? opt->output : "standard output";
  if (fflush(out) != 0 || ferror(out))
    rc = tool_error("cannot write to %s: %s", name, strerror(errno));
  if (opt->output && fclose(out) != 0 && rc == 0)
    rc = tool_error("cannot write to %s: %s", name, strerror(errno));
  return rc;
}

int show_command(const struct show_options *opt, const char *path) {
  unsigned char *buf;
  size_t len;
  char err[512];
  if (read_whole_file(path, &buf, &len, err, sizeof err))
    return tool_error("%s", err);
  if (check_magic(path, buf, len)) {
    free(buf);
    return 1;
  }
  if (llama_idx_has_magic(buf, len)) {
    struct llama_idx *idx = llama_idx_parse(buf, len, path, err, sizeof err);
    free(buf);
    if (!idx)
      return tool_error("%s", err);
    FILE *out = open_output(opt);
    int rc = out ? close_output(opt, out, show_indexed(out, opt, path, idx)) : 1;
    llama_idx_free(idx);
    return rc;
  }
  struct llama_raw_profile *pr = llama_raw_parse(buf, len, path, err, sizeof err);
  free(buf);
  if (!pr)
    return tool_error("%s", err);
  if (opt->html) {
    llama_raw_free(pr);
    return tool_error("%s: --html shows indexed profiles; merge the raw profile first "
                      "(llama-profdata merge -o OUT.llamaprof %s)", path, path);
  }
  FILE *out = open_output(opt);
  if (!out) {
    llama_raw_free(pr);
    return 1;
  }
  if (opt->json)
    show_raw_json(out, path, pr);
  else
    show_raw_text(out, path, pr);
  llama_raw_free(pr);
  return close_output(opt, out, 0);
}
