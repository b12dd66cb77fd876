"""Chapter 7 widget: median time of one update of imde_figure."""

from widget_timing import report

from simplest_node.figures.imde import imde_figure

SETTINGS = [
    {"method": method, "n_sub": n_sub, "a_star": a_star}
    for method, n_sub, a_star in [
        ("euler", 2, -1.0),
        ("midpoint", 1, -3.0),
        ("rk4", 16, 2.0),
        ("heun", 5, -0.5),
    ]
]

if __name__ == "__main__":
    report("ch07 imde_figure", imde_figure, SETTINGS)
