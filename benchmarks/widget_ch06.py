"""Chapter 6 widget: median time of one update of beyond_figure."""

from widget_timing import report

from simplest_node.figures.beyond import beyond_figure

SETTINGS = [
    {"d": d, "optimizer": optimizer, "lr": lr, "coupling": coupling, "seed": seed}
    for d, optimizer, lr, coupling, seed in [
        (3, "covariance + line search", 0.5, 1.0, 0),
        (5, "Gauss-Newton + line search", 1.0, 3.0, 9),
        (5, "GD", 0.05, 0.0, 3),
        (5, "Adam", 1.0, 2.0, 5),
        (5, "covariance", 1.0, 3.0, 1),
        (2, "Gauss-Newton", 0.05, 0.5, 7),
    ]
]

if __name__ == "__main__":
    report("ch06 beyond_figure", beyond_figure, SETTINGS)
