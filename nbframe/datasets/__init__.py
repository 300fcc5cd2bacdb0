"""nbframe.datasets: not written yet."""
