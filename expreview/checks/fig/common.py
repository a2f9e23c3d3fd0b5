"""What the FIG rules share: the evaluate script's path and the figure-saving script their
examples start from."""
from __future__ import annotations

EVALUATE = "src/evaluate.py"

PLOT = (
    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nimport os\n\n\n"
    "def plot(results_dir, runs):\n    fig, ax = plt.subplots()\n    for name, ys in runs.items():\n"
    "        ax.plot(ys, label=name)\n        ax.annotate(f'{ys[-1]:.2f}', (len(ys) - 1, ys[-1]))\n"
    "    ax.legend()\n    fig.savefig(os.path.join(results_dir, 'images', 'accuracy.pdf'))\n"
)
