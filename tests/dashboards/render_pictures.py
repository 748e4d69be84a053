#!/usr/bin/python3
"""Renders the dashboards' data as PNG pictures for the README: docs/dashboards/overview.png and
docs/dashboards/detail.png. Grafana is not packaged in Debian, so this draws the same queries'
results with matplotlib, laid out by each panel's gridPos, in Grafana's dark colours. It is a
plot of real data from a real Prometheus, not a Grafana screenshot.

Not run in CI. Needs Debian's python3-matplotlib (hence /usr/bin/python3) and prometheus:
  apt-get install python3-matplotlib prometheus
  tests/dashboards/render_pictures.py --exporter build/src/llm_probe_exporter \
      --mock-upstream build/tools/mock_upstream/mock_upstream [--minutes 6]
It starts the same stack as query_test.py (tests/dashboards/dashstack.py), lets it run for
--minutes while it plays a short incident on the mock upstream (the backup relay overloaded for
90 s, the rejected key fixed after 3 minutes, the stream slowing down), then renders with every
variable on All and the time range = the whole run.
Or render from a Prometheus you already have: --prometheus-url URL --minutes N (range = last N).
"""
import argparse
import datetime
import json
import math
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashstack  # noqa: E402

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
except ImportError:
    sys.exit("render_pictures: needs matplotlib: apt-get install python3-matplotlib and run with /usr/bin/python3")

ROOT = dashstack.ROOT
OUT = os.path.join(ROOT, "docs", "dashboards")
BG, PANEL, BORDER, TEXT, MUTED = "#111217", "#181b1f", "#2c3235", "#ccccdc", "#8e8e8e"
COLOURS = {"green": "#73BF69", "red": "#F2495C", "orange": "#FF9830", "yellow": "#FADE2A",
           "blue": "#5794F2", "purple": "#B877D9", "dark-red": "#C4162A", "dark-orange": "#FA6400",
           "text": TEXT, "transparent": PANEL}
PALETTE = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0",
           "#508642", "#CCA300", "#447EBC", "#C15C17", "#890F02", "#0A437C", "#6D1F62", "#584477"]
COL_W, ROW_H = 0.62, 0.36  # inches per grid column / grid row (Grafana: 24 columns, 30 px rows)
VAR_ALL = ".*"


def colour(name):
    return COLOURS.get(name, name or TEXT)


# -- formatting as Grafana would ------------------------------------------------------------------
def short(value, digits=3):
    a = abs(value)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{value / div:.{digits}g}{suffix}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}g}"


def fmt(value, unit, decimals=None, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN" if value is not None else "-"
    if unit == "percentunit":
        return f"{value * 100:.{1 if decimals is None else decimals}f}%"
    if unit == "s":
        a = abs(value)
        if a == 0:
            return "0 s"
        if a < 1:
            return f"{value * 1000:.{digits}g} ms"
        if a < 60:
            return f"{value:.{digits}g} s"
        return f"{value / 60:.{digits}g} min"
    if unit == "currencyUSD":
        return f"${value:.{4 if decimals is None else decimals}f}"
    if unit == "dateTimeFromNow":
        ago = time.time() - value / 1000
        return f"{ago:.0f} s ago" if ago < 120 else f"{ago / 60:.0f} min ago"
    if unit and unit.startswith("suffix:"):
        return f"{short(value, digits)}{unit[7:]}"
    if decimals is not None:
        return f"{value:.{decimals}f}"
    return short(value, digits)


def map_value(value, mappings):
    """Returns (text, colour) from value mappings, or None."""
    for m in mappings or []:
        if m.get("type") == "value":
            key = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
            if key in m["options"]:
                o = m["options"][key]
                return o.get("text", key), o.get("color")
        elif m.get("type") == "regex" and re.fullmatch(m["options"]["pattern"], str(value)):
            return m["options"]["result"].get("text"), m["options"]["result"].get("color")
    return None


def threshold_colour(value, thresholds):
    steps = (thresholds or {}).get("steps") or [{"color": "green", "value": None}]
    c = steps[0]["color"]
    for s in steps[1:]:
        if isinstance(value, (int, float)) and not math.isnan(value) and value >= s["value"]:
            c = s["color"]
    return c


def field_config(panel, name):
    cfg = dict((panel.get("fieldConfig") or {}).get("defaults") or {})
    for o in (panel.get("fieldConfig") or {}).get("overrides") or []:
        if o["matcher"].get("id") == "byName" and o["matcher"].get("options") == name:
            for p in o["properties"]:
                cfg[p["id"]] = p["value"]
    return cfg


def legend(fmt_str, metric):
    if not fmt_str:
        return ", ".join(f"{k}={v}" for k, v in metric.items() if k not in ("job", "instance", "environment")) or "value"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt_str)


# -- queries ------------------------------------------------------------------------------------
class Source:
    def __init__(self, prom, start, end, group=None, selection=None):
        self.prom, self.start, self.end = prom, start, end
        self.selection = selection or {}
        span = end - start
        self.step = max(5, int(span / 150))
        self.subs = {"__rate_interval": "30s", "__range": f"{int(span)}s", "__interval": f"{self.step}s",
                     "__range_s": str(int(span)), "__interval_ms": str(self.step * 1000)}
        self.group = group

    def expr(self, e):
        def repl(m):
            name = m.group(1) or m.group(2)
            if name in self.subs:
                return self.subs[name]
            if name == "group" and self.group:
                return self.group
            return self.selection.get(name, VAR_ALL)
        return re.sub(r"\$\{([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, e)

    def instant(self, e):
        return dashstack.instant(self.prom, self.expr(e), self.end)

    def range(self, e):
        return dashstack.query_range(self.prom, self.expr(e), self.start, self.end, self.step)


def value_of(sample):
    try:
        return float(sample["value"][1])
    except (KeyError, ValueError, TypeError):
        return float("nan")


# -- panels ---------------------------------------------------------------------------------------
def frame(ax, panel, src):
    ax.set_facecolor(PANEL)
    for s in ax.spines.values():
        s.set_color(BORDER)
    title = panel.get("title", "")
    if src.group:
        title = title.replace("$group", src.group)
    ax.set_title(title, loc="left", color=TEXT, fontsize=9, fontweight="bold", pad=4)


def draw_stat(fig, ax, panel, src):
    frame(ax, panel, src)
    ax.set_xticks([]), ax.set_yticks([])
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    items = []
    for t in panel["targets"]:
        for s in src.instant(t["expr"]):
            name = legend(t.get("legendFormat"), s["metric"])
            cfg = field_config(panel, name)
            v = value_of(s)
            mapped = map_value(v, cfg.get("mappings"))
            text = mapped[0] if mapped else fmt(v, cfg.get("unit"), cfg.get("decimals"))
            col = (mapped[1] if mapped and mapped[1] else None) or threshold_colour(v, cfg.get("thresholds"))
            if (cfg.get("color") or {}).get("mode") == "fixed":
                col = cfg["color"]["fixedColor"]
            items.append((name, text, colour(col)))
    mode = (panel.get("options") or {}).get("colorMode", "value")
    show_name = (panel.get("options") or {}).get("textMode") == "value_and_name" or len(items) > 1
    n = max(1, len(items))
    cols = min(n, 3 if n > 4 else n)
    rows = math.ceil(n / cols)
    for i, (name, text, col) in enumerate(items):
        r, c = divmod(i, cols)
        x0, y0, w, h = c / cols, 1 - (r + 1) / rows, 1 / cols, 1 / rows
        if mode == "background" and col != TEXT:
            ax.add_patch(Rectangle((x0 + 0.01, y0 + 0.02), w - 0.02, h - 0.04, transform=ax.transAxes,
                                   color=col, alpha=0.85, lw=0))
            tc = "white"
        else:
            tc = col
        size = 20 if n == 1 else (13 if n <= 4 else 8)
        if show_name:
            ax.text(x0 + w / 2, y0 + h * 0.72, name, ha="center", va="center", color=TEXT if mode != "background" else "white",
                    fontsize=max(6, size * 0.45), transform=ax.transAxes)
            ax.text(x0 + w / 2, y0 + h * 0.35, text, ha="center", va="center", color=tc, fontsize=size,
                    fontweight="bold", transform=ax.transAxes)
        else:
            ax.text(x0 + w / 2, y0 + h / 2, text, ha="center", va="center", color=tc, fontsize=size,
                    fontweight="bold", transform=ax.transAxes)
    if not items:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", color=MUTED, transform=ax.transAxes)


def time_axis(ax, src):
    minutes = (src.end - src.start) / 60
    if minutes > 8:
        ax.xaxis.set_major_locator(mdates.MinuteLocator(interval=max(1, math.ceil(minutes / 6))))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    else:
        ax.xaxis.set_major_locator(mdates.SecondLocator(interval=max(10, int(minutes * 60 / 6) // 10 * 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.set_xlim(datetime.datetime.fromtimestamp(src.start), datetime.datetime.fromtimestamp(src.end))


def style_time_axis(ax, unit, src):
    ax.tick_params(colors=MUTED, labelsize=7)
    ax.grid(color=BORDER, lw=0.5)
    time_axis(ax, src)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt(v, unit, digits=4)))


def draw_timeseries(fig, ax, panel, src):
    frame(ax, panel, src)
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    custom = defaults.get("custom") or {}
    unit = defaults.get("unit")
    bars = custom.get("drawStyle") == "bars"
    stacked = (custom.get("stacking") or {}).get("mode") == "normal"
    series = []
    for t in panel["targets"]:
        for s in src.range(t["expr"]):
            name = legend(t.get("legendFormat"), s["metric"])
            xs = [datetime.datetime.fromtimestamp(float(p[0])) for p in s["values"]]
            ys = [float(p[1]) for p in s["values"]]
            series.append((name, xs, ys))
    series.sort(key=lambda x: x[0])
    base = {}
    for i, (name, xs, ys) in enumerate(series):
        cfg = field_config(panel, name)
        col = colour(((cfg.get("color") or {}).get("fixedColor")) if (cfg.get("color") or {}).get("mode") == "fixed"
                     else PALETTE[i % len(PALETTE)])
        if stacked:
            bottoms = [base.get(x, 0.0) for x in xs]
            tops = [b + (0 if math.isnan(y) else y) for b, y in zip(bottoms, ys)]
            for x, t in zip(xs, tops):
                base[x] = t
            if bars:
                ax.bar(xs, [t - b for t, b in zip(tops, bottoms)], bottom=bottoms, width=src.step / 86400 * 0.8,
                       color=col, label=name, lw=0)
            else:
                ax.fill_between(xs, bottoms, tops, color=col, alpha=0.45, lw=0)
                ax.plot(xs, tops, color=col, lw=1, label=name)
        else:
            style = "--" if (cfg.get("custom.lineStyle") or {}).get("fill") == "dash" else "-"
            ax.plot(xs, ys, style, color=col, lw=1.1, label=name)
    if custom.get("thresholdsStyle", {}).get("mode") in ("dashed", "line"):
        for st in (defaults.get("thresholds") or {}).get("steps", [])[1:]:
            ax.axhline(st["value"], color=colour(st["color"]), ls="--", lw=0.8, alpha=0.8)
    if "min" in defaults:
        ax.set_ylim(bottom=defaults["min"])
    if "max" in defaults and defaults.get("max") is not None:
        top = max([defaults["max"]] + [max((y for y in s[2] if not math.isnan(y)), default=0) for s in series])
        ax.set_ylim(top=top * 1.05 if top > defaults["max"] else defaults["max"] * 1.02)
    style_time_axis(ax, unit, src)
    if series:
        bottom = (panel.get("options") or {}).get("legend", {}).get("placement") == "bottom"
        ncol = 3 if bottom else 1
        handles, labels = ax.get_legend_handles_labels()
        room = max(3, int(ax.get_position().height * fig.get_figheight() / 0.115))
        if len(labels) > room:  # Grafana scrolls the legend; a picture cannot
            more = len(labels) - room + 1
            handles, labels = handles[:room - 1], labels[:room - 1]
            handles.append(Rectangle((0, 0), 0, 0, alpha=0))
            labels.append(f"… {more} more")
        ax.legend(handles, labels, fontsize=6, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0) if not bottom else (0, -0.12),
                  frameon=False, labelcolor=TEXT, ncol=ncol, handlelength=1.2, borderaxespad=0)
    else:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", color=MUTED, transform=ax.transAxes)


def draw_state_timeline(fig, ax, panel, src):
    frame(ax, panel, src)
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    mappings = defaults.get("mappings")
    rows = []
    for t in panel["targets"]:
        for s in src.range(t["expr"]):
            rows.append((legend(t.get("legendFormat"), s["metric"]), s["values"]))
    rows.sort(key=lambda r: r[0], reverse=True)
    seen = {}
    for i, (name, values) in enumerate(rows):
        for k, (ts, v) in enumerate(values):
            x0 = datetime.datetime.fromtimestamp(float(ts))
            x1 = datetime.datetime.fromtimestamp(float(values[k + 1][0]) if k + 1 < len(values) else float(ts) + src.step)
            m = map_value(float(v), mappings)
            text, col = (m if m else (v, "text"))
            seen[text] = colour(col)
            ax.barh(i, mdates.date2num(x1) - mdates.date2num(x0), left=mdates.date2num(x0), height=0.8,
                    color=colour(col), lw=0)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in rows], fontsize=7, color=TEXT)
    ax.xaxis_date()
    ax.tick_params(colors=MUTED, labelsize=7)
    time_axis(ax, src)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in seen.values()]
    ax.legend(handles, list(seen), fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              labelcolor=TEXT, handlelength=1.0)


def merge_rows(panel, src):
    rows = []
    for t in panel["targets"]:
        for s in src.instant(t["expr"]):
            row = {k: v for k, v in s["metric"].items() if k not in ("__name__", "environment")}
            row[f"Value #{t['refId']}"] = value_of(s)
            for existing in rows:
                shared = [k for k in row if k in existing and not k.startswith("Value #")]
                if shared and all(existing[k] == row[k] for k in shared) and not any(
                        k in existing for k in row if k.startswith("Value #")):
                    existing.update(row)
                    break
            else:
                rows.append(row)
    org = next((t["options"] for t in panel.get("transformations", []) if t["id"] == "organize"), {})
    rename, order, exclude = org.get("renameByName", {}), org.get("indexByName", {}), org.get("excludeByName", {})
    cols = []
    for r in rows:
        for k in r:
            if k not in cols and not exclude.get(k) and k != "job":
                cols.append(k)
    named = [(rename.get(k, k), k) for k in cols]
    named.sort(key=lambda nk: order.get(nk[0], 100))
    return named, rows


def draw_table(fig, ax, panel, src):
    frame(ax, panel, src)
    ax.set_xticks([]), ax.set_yticks([])
    named, rows = merge_rows(panel, src)
    named = [nk for nk in named if nk[0] != "Instance"]  # one instance here; saves width
    sort = ((panel.get("options") or {}).get("sortBy") or [])
    for sb in reversed(sort):
        key = next((k for n, k in named if n == sb["displayName"]), None)
        if key:
            rows.sort(key=lambda r: (r.get(key) is None, r.get(key, 0) if not isinstance(r.get(key), float) or not math.isnan(r.get(key)) else -1),
                      reverse=sb.get("desc", False))
    cell_text, cell_colours, text_colours = [], [], []
    for r in rows:
        line, bg, fg = [], [], []
        for name, key in named:
            cfg = field_config(panel, name)
            v = r.get(key)
            if v is None:
                line.append(""); bg.append(PANEL); fg.append(TEXT)
                continue
            mapped = map_value(v, cfg.get("mappings"))
            if mapped:
                text, col = mapped
            elif isinstance(v, float):
                text, col = fmt(v, cfg.get("unit"), cfg.get("decimals")), threshold_colour(v, cfg.get("thresholds"))
            else:
                text, col = str(v), None
            mode = (cfg.get("custom.cellOptions") or {}).get("type")
            if mode == "color-background" and col:
                bg.append(colour(col)); fg.append("white")
            elif mode in ("color-text", "gauge") and col:
                bg.append(PANEL); fg.append(colour(col))
            else:
                bg.append(PANEL); fg.append(TEXT)
            line.append(text)
        cell_text.append(line); cell_colours.append(bg); text_colours.append(fg)
    if not rows:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", color=MUTED, transform=ax.transAxes)
        return
    table = ax.table(cellText=cell_text, cellColours=cell_colours, colLabels=[n for n, _ in named],
                     colColours=[BORDER] * len(named), loc="upper center", cellLoc="left",
                     bbox=[0, max(0, 1 - (len(rows) + 1) * 0.24 / (ax.get_position().height * fig.get_figheight())), 1,
                           min(1, (len(rows) + 1) * 0.24 / (ax.get_position().height * fig.get_figheight()))])
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    for (i, j), cell in table.get_celld().items():
        cell.set_edgecolor(BG)
        cell.get_text().set_color(TEXT if i == 0 else text_colours[i - 1][j])
        if i == 0:
            cell.get_text().set_fontweight("bold")


def draw_bargauge(fig, ax, panel, src):
    frame(ax, panel, src)
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    items = []
    for t in panel["targets"]:
        for s in src.instant(t["expr"]):
            items.append((legend(t.get("legendFormat"), s["metric"]), value_of(s)))
    items.sort(key=lambda i: i[0], reverse=True)
    lo, hi = defaults.get("min", 0), defaults.get("max", 1)
    for i, (name, v) in enumerate(items):
        vv = 0 if math.isnan(v) else max(lo, min(hi, v))
        ax.barh(i, hi - lo, left=lo, color=BORDER, height=0.7)
        ax.barh(i, vv - lo, left=lo, color=colour(threshold_colour(v, defaults.get("thresholds"))), height=0.7)
        ax.text(hi, i, " " + fmt(v, defaults.get("unit"), defaults.get("decimals")), va="center", color=TEXT, fontsize=7)
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([n for n, _ in items], fontsize=7, color=TEXT)
    ax.set_xticks([])
    ax.set_xlim(lo, hi * 1.25)


DRAW = {"stat": draw_stat, "timeseries": draw_timeseries, "table": draw_table,
        "state-timeline": draw_state_timeline, "bargauge": draw_bargauge}


# -- layout ---------------------------------------------------------------------------------------
def expand_repeats(dash, src):
    """Repeats a row with `repeat` once per value of its variable (as Grafana does), stacking the
    copies; returns [(panel, group value or None, y offset)]."""
    panels = dash["panels"]
    out, shift, i = [], 0, 0
    while i < len(panels):
        p = panels[i]
        if p["type"] == "row" and p.get("repeat"):
            block = [p]
            j = i + 1
            while j < len(panels) and panels[j]["type"] != "row":
                block.append(panels[j])
                j += 1
            var = next(v for v in dash["templating"]["list"] if v["name"] == p["repeat"])
            q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", q, re.S)
            values = sorted(dashstack.prom_get(src.prom, f"/api/v1/label/{m.group(2)}/values",
                                               {"match[]": src.expr(m.group(1))}))
            height = max(b["gridPos"]["y"] + b["gridPos"]["h"] for b in block) - p["gridPos"]["y"]
            for k, value in enumerate(values):
                for b in block:
                    out.append((b, value, shift + k * height))
            shift += (len(values) - 1) * height
            i = j
        else:
            out.append((p, None, shift))
            i += 1
    return out


def render(dash_path, png, prom, start, end, selection):
    with open(dash_path) as f:
        dash = json.load(f)
    base = Source(prom, start, end, None, selection)
    layout = expand_repeats(dash, base)
    total_h = max(p["gridPos"]["y"] + p["gridPos"]["h"] + off for p, _, off in layout)
    W, H = 24 * COL_W, total_h * ROW_H + 0.6
    fig = plt.figure(figsize=(W, H), dpi=110, facecolor=BG)
    rng = f"{datetime.datetime.fromtimestamp(start):%H:%M} – {datetime.datetime.fromtimestamp(end):%H:%M}"
    chosen = ", ".join(f"{k} = {v}" for k, v in selection.items()) or "all variables = All"
    fig.text(0.005, 1 - 0.25 / H, f"{dash['title']}   ·   {chosen}   ·   {rng}   ·   "
             "rendered from Prometheus by tests/dashboards/render_pictures.py (not a Grafana screenshot)",
             color=TEXT, fontsize=10, va="center")
    for p, group, off in layout:
        g = p["gridPos"]
        y = g["y"] + off
        left, top = g["x"] * COL_W, 0.5 + y * ROW_H
        if p["type"] == "row":
            title = p["title"].replace("$group", group) if group else p["title"]
            fig.text((left + 0.05) / W, 1 - (top + ROW_H / 2) / H, title, color=TEXT, fontsize=10,
                     fontweight="bold", va="center")
            continue
        # Leave room for titles, axis labels and right-hand legends, as Grafana's chrome does.
        legend_w = 0
        if p["type"] == "timeseries":
            placement = (p.get("options") or {}).get("legend", {}).get("placement", "right")
            legend_w = 0.30 if placement != "bottom" else 0
        elif p["type"] == "state-timeline":
            legend_w = 0.16 if g["w"] > 12 else 0.3
        pad_l = {"timeseries": 0.75, "state-timeline": 1.35, "bargauge": 1.2}.get(p["type"], 0.08)
        pad_b = {"timeseries": 0.3, "state-timeline": 0.3}.get(p["type"], 0.06)
        if p["type"] == "timeseries" and (p.get("options") or {}).get("legend", {}).get("placement") == "bottom":
            pad_b = 0.9
        w_in = g["w"] * COL_W
        ax = fig.add_axes([(left + pad_l) / W, 1 - (top + g["h"] * ROW_H - pad_b) / H,
                           (w_in * (1 - legend_w) - pad_l - 0.1) / W, (g["h"] * ROW_H - pad_b - 0.32) / H])
        src = Source(prom, start, end, group, selection)
        try:
            DRAW[p["type"]](fig, ax, p, src)
        except dashstack.PromError as e:
            ax.text(0.5, 0.5, f"query error: {e}", ha="center", va="center", color=COLOURS["red"],
                    fontsize=7, transform=ax.transAxes, wrap=True)
    fig.savefig(png, facecolor=BG)
    plt.close(fig)
    dashstack.log(f"wrote {os.path.relpath(png, ROOT)}")


def play_incident(stack, minutes):
    """A few minutes of life: the backup relay overloaded for a while, a rejected key fixed, the
    stream slowing down. Returns when `minutes` have passed."""
    t0 = time.monotonic()
    plan = [
        (0.30, "slow", {"status": 503, "error_type": "overloaded_error", "error_message": "upstream overloaded"}),
        (0.30, "streaming", {"ratelimit_headers": True, "content": "Streaming tokens arrive one by one.",
                             "stream": {"first_token_delay_ms": 450, "token_count": 12, "token_interval_ms": 25}}),
        (0.55, "slow", dashstack.SCENARIOS["slow"]),
        (0.60, "unauthorized", {"ratelimit_headers": True}),
        (0.75, "streaming", dashstack.SCENARIOS["streaming"]),
    ]
    for frac, scenario, behaviour in plan:
        at = t0 + frac * minutes * 60
        while time.monotonic() < at:
            time.sleep(1)
        stack.set_scenario(scenario, behaviour)
        dashstack.log(f"mock: scenario {scenario} -> {json.dumps(behaviour)[:70]}")
    while time.monotonic() < t0 + minutes * 60:
        time.sleep(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exporter")
    ap.add_argument("--mock-upstream")
    ap.add_argument("--prometheus-url")
    ap.add_argument("--minutes", type=float, default=6)
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--detail-target", default="backup|streamer",
                    help="regex for $target in the detail picture, as if chosen in Grafana (default: %(default)s)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    dashboards = [("llm-probe-overview.json", "overview.png", {}),
                  ("llm-probe-detail.json", "detail.png", {"target": args.detail_target} if args.detail_target else {})]

    def render_all(prom, start, end):
        for src, png, selection in dashboards:
            render(os.path.join(ROOT, "grafana", "dashboards", src), os.path.join(args.out, png), prom, start, end,
                   selection)

    if args.prometheus_url:
        end = time.time()
        render_all(args.prometheus_url, end - args.minutes * 60, end)
        return 0
    if not (args.exporter and args.mock_upstream):
        ap.error("give --exporter and --mock-upstream (or --prometheus-url)")
    dashstack.install_signal_handlers()
    with dashstack.Stack(args.exporter, args.mock_upstream) as stack:
        start = time.time()
        dashstack.log(f"collecting data for {args.minutes:g} minutes")
        play_incident(stack, args.minutes)
        render_all(stack.prom_url, start, time.time())
    return 0


if __name__ == "__main__":
    sys.exit(main())
