"""check_html.py REPORT.html PROFILE.json TOP CONTEXTS

Checks every number of a `llama-profdata show --html` page against
`show --json` of the same profile (all sites): the meta table, the bytes by
class (recomputed from the JSON's sites), and for the first TOP sites (0 =
all) in the JSON's order: id, kind, calls, bytes, samples, class, the
histogram bars (counts and heights), the reason and its numbers, the
location, and the first CONTEXTS contexts (0 = all) by samples with their
numbers and frames. Also checks that the page loads nothing from outside.
Prints "ok: N sites, M contexts checked" or exits with the first difference.
"""
import html.parser
import json
import re
import sys

NUM_CLASSES = 7


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], ""

    def all(self, pred):
        for c in self.children:
            if pred(c):
                yield c
            yield from c.all(pred)

    def find(self, pred):
        return next(self.all(pred), None)

    def cls(self):
        return self.attrs.get("class", "")

    def content(self):
        return self.text + "".join(c.content() for c in self.children if c.tag != "title")


VOID = {"meta", "br", "img", "input", "link", "hr"}


class Tree(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        node = self.cur
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is self.root:
            fail("unbalanced </%s>" % tag)
        self.cur = node.parent

    def handle_data(self, data):
        # Text goes to the current node, in order, as a child text node.
        t = Node("#text", {}, self.cur)
        t.text = data
        self.cur.children.append(t)


def fail(msg):
    sys.exit("check_html: " + msg)


def expect(what, got, want):
    if str(got) != str(want):
        fail("%s: page says %r, JSON says %r" % (what, got, want))


def cell(row, name):
    c = row.find(lambda n: n.tag == "td" and name in n.cls().split())
    if c is None:
        fail("row %s has no %s cell" % (row.attrs.get("data-id"), name))
    return c


def direct_cell(row, name):
    for c in row.children:
        if c.tag == "td" and name in c.cls().split():
            return c
    fail("row %s has no %s cell" % (row.attrs.get("data-id"), name))


def check_histogram(what, td, hist):
    rects = list(td.find(lambda n: n.tag == "svg").all(lambda n: n.tag == "rect"))
    expect(what + " bars", len(rects), len(hist))
    top, total = max(hist), sum(hist)
    for k, (r, h) in enumerate(zip(rects, hist)):
        expect("%s bar %d count" % (what, k), r.attrs["data-count"], h)
        title = r.find(lambda n: n.tag == "title").content()
        expect("%s bar %d tooltip" % (what, k), title.split(": ", 1)[1],
               "%d (%.1f%%)" % (h, 100.0 * h / total if total else 0))
        height = (h * 36 + top - 1) // top if top else 0
        expect("%s bar %d height" % (what, k), r.attrs["height"], height)


def location(f):
    s = f["function"] or "?"
    if f["file"] or f["line"]:
        s += " %s:%d:%d" % (f["file"] or "?", f["line"], f["column"])
    return s


def reason(site):
    kinds_dealloc = {"free", "delete", "delete_array", "delete_sized", "delete_array_sized",
                     "delete_aligned", "delete_array_aligned", "delete_sized_aligned",
                     "delete_array_sized_aligned", "delete_nothrow", "delete_array_nothrow",
                     "delete_aligned_nothrow", "delete_array_aligned_nothrow"}
    if site["kind"] in kinds_dealloc:
        return "deallocation", []
    if site["samples"] == 0 or site["class"] is None:
        return "no-samples", []
    if site["site_flags"] & 0x8:
        return "external", []
    classed = [c for c in site["contexts"] if c["class"] is not None]
    if site["context_dependent"]:
        by = [0] * NUM_CLASSES
        for c in classed:
            by[c["class"]] += c["samples"]
        top = max(range(NUM_CLASSES), key=lambda k: (by[k], -k))
        total = sum(by)
        return "context-dependent", [str(len(classed)), str(top),
                                     "%.1f" % (100.0 * by[top] / total if total else 0)]
    return "agree", [str(len(classed))]


def main():
    page, js, top, contexts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    text = open(page, encoding="utf-8").read()
    if re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text, re.I) or "<link" in text:
        fail("the page loads something from outside")
    tree = Tree()
    tree.feed(text)
    tree.close()
    doc = json.load(open(js))
    meta = doc["meta"]
    root = tree.root

    for name in ("raw_profiles", "total_samples", "total_calls", "total_bytes",
                 "sample_period", "site_count", "context_count"):
        expect("meta " + name, cell(root, name).content(), meta[name])
    expect("meta quantile", float(cell(root, "quantile").content()), float(meta["quantile"]))

    sites = doc["sites"]
    expect("JSON holds every site", len(sites), meta["site_count"])
    rows = {r: [0, 0, 0] for r in list(range(NUM_CLASSES)) + ["none"]}
    for s in sites:
        r = rows[s["class"] if s["class"] is not None else "none"]
        r[0] += 1
        r[1] += s["calls"]
        r[2] += s["bytes"]
    total = sum(s["bytes"] for s in sites)
    bar = root.find(lambda n: n.tag == "svg" and n.cls() == "share")
    shares = [r.find(lambda n: n.tag == "title").content()
              for r in bar.all(lambda n: n.tag == "rect")]
    order = list(range(NUM_CLASSES)) + ["none"]
    want = ["%.1f%%" % (100.0 * rows[k][2] / total) for k in order if total and rows[k][2]]
    expect("bytes-by-class bar", [t.split(": ", 1)[1] for t in shares], want)
    summary = root.find(lambda n: n.attrs.get("id") == "summary")
    for tr in summary.all(lambda n: n.tag == "tr" and "data-class" in n.attrs):
        key = tr.attrs["data-class"]
        want = rows[int(key) if key != "none" else "none"]
        expect("summary %s sites" % key, cell(tr, "sites").content(), want[0])
        expect("summary %s calls" % key, cell(tr, "calls").content(), want[1])
        expect("summary %s bytes" % key, cell(tr, "bytes").content(), want[2])
        expect("summary %s share" % key, cell(tr, "share").content(),
               "%.1f%%" % (100.0 * want[2] / total if total else 0))

    table = root.find(lambda n: n.attrs.get("id") == "sites")
    site_rows = list(table.all(lambda n: n.tag == "tr" and n.cls() == "site"))
    shown = min(top, len(sites)) if top else len(sites)
    expect("sites shown", len(site_rows), shown)
    shown_p = root.find(lambda n: n.attrs.get("id") == "shown")
    expect("sites shown (note)", shown_p.attrs["data-shown"], shown)
    checked_contexts = 0
    for row, s in zip(site_rows, sites):
        sid = s["id"]
        expect("site id", row.attrs["data-id"], sid)
        for name in ("kind", "calls", "bytes", "samples"):
            expect("%s %s" % (sid, name), direct_cell(row, name).content(), s[name])
        expect(sid + " id", direct_cell(row, "id").content(), sid)
        expect(sid + " class", direct_cell(row, "class").content(),
               "-" if s["class"] is None else s["class"])
        check_histogram(sid, direct_cell(row, "histogram"), s["histogram"])
        why = direct_cell(row, "reason")
        kind, numbers = reason(s)
        expect(sid + " reason", why.attrs["data-reason"], kind)
        expect(sid + " reason numbers", re.findall(r"[0-9]+(?:\.[0-9]+)?", why.content()),
               numbers)
        loc = " ".join(direct_cell(row, "location").content().split())
        if s["site_flags"] & 0x8:
            want = "<external %s>" % s["kind"]
        else:
            want = location(s)
        if s["inlined_at"]:
            want += " inlined at " + s["inlined_at"]
        expect(sid + " location", loc, want)

        ctx_cell = direct_cell(row, "contexts")
        ctx_rows = list(ctx_cell.all(lambda n: n.tag == "tr" and n.cls() == "context"))
        ordered = sorted(s["contexts"], key=lambda c: (-c["samples"], int(c["id"], 16)))
        listed = min(contexts, len(ordered)) if contexts else len(ordered)
        expect(sid + " contexts listed", len(ctx_rows), listed)
        if ordered:
            expect(sid + " context count", ctx_cell.attrs["data-sort"], len(ordered))
        for tr, c in zip(ctx_rows, ordered):
            cid = "%s/%s" % (sid, c["id"])
            expect(cid + " id", cell(tr, "id").content(), c["id"])
            expect(cid + " samples", cell(tr, "samples").content(), c["samples"])
            expect(cid + " calls", cell(tr, "calls").content(), c["calls"])
            expect(cid + " class", cell(tr, "class").content(),
                   "-" if c["class"] is None else c["class"])
            check_histogram(cid, cell(tr, "histogram"), c["histogram"])
            frames = [" ".join(li.content().split())
                      for li in tr.all(lambda n: n.tag == "li" and n.cls() == "frame")]
            want = []
            for f in c["frames"]:
                w = location(f)
                if f["inlined"]:
                    w += " inlined"
                if f["from_site"]:
                    w += " from site"
                want.append(w)
            expect(cid + " frames", frames, want)
            checked_contexts += 1
    print("ok: %d sites, %d contexts checked" % (len(site_rows), checked_contexts))


main()
