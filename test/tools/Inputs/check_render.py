"""check_render.py SHOT.png DOM.html PROFILE.json N

Checks a headless-chromium rendering of a show --html page: the screenshot
is not blank (PNG decoded with zlib; enough non-white pixels, among them the
class colours of the bars), and the DOM after the page's script ran holds
the N site rows of the JSON's first N sites, in order, each with its
histogram. Prints one summary line.
"""
import json
import re
import struct
import sys
import zlib


def decode_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("check_render: %s is not a PNG" % path)
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or not channels or interlace:
        sys.exit("check_render: unsupported PNG (depth %d, colour %d)" % (depth, colour))
    raw, stride = zlib.decompress(idat), width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, channels, rows


def main():
    shot, dom, js, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    width, height, channels, rows = decode_png(shot)
    inked = red = 0
    for line in rows:
        for x in range(0, width * channels, channels):
            r, g, b = line[x], line[x + 1], line[x + 2]
            if r < 240 or g < 240 or b < 240:
                inked += 1
            if r > 200 and g < 80 and b < 60:  # class 0's bars, #d7301f
                red += 1
    share = inked / float(width * height)
    if share < 0.02:
        sys.exit("check_render: the screenshot is blank (%.2f%% ink)" % (100 * share))
    if red < 50:
        sys.exit("check_render: no class-0 bars in the screenshot (%d red pixels)" % red)

    text = open(dom, encoding="utf-8").read()
    ids = re.findall(r'<tr class="site" data-id="(0x[0-9a-f]{16})"', text)
    want = [s["id"] for s in json.load(open(js))["sites"][:n]]
    if ids != want:
        sys.exit("check_render: DOM site rows %s, JSON's first %d sites %s" % (ids, n, want))
    svgs = len(re.findall(r'<td class="histogram"[^>]*><svg class="hist"', text))
    print("rendered %dx%d, ink %s, %d site rows in JSON order, %d histograms"
          % (width, height, "yes" if share >= 0.02 else "no", len(ids), svgs))


main()
