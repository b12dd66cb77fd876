"""Chapter 4 widget: median time of one update of training_figure."""

from widget_timing import report

from simplest_node.figures.training import training_figure

SETTINGS = [
    {"optimizer": optimizer, "lr": lr, "a0": a0, "t": t}
    for optimizer, lr, a0, t in [
        ("GD", 0.05, -2.0, 1.0),
        ("Adam", 0.5, 3.0, 2.0),
        ("SGD", 0.005, -3.0, 0.25),
        ("variance-corrected", 0.5, -3.0, 2.0),
    ]
]

if __name__ == "__main__":
    report("ch04 training_figure", training_figure, SETTINGS)
