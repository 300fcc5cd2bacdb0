"""Real-browser tests (marker ``browser``): JupyterLab on 127.0.0.1, Playwright, Debian's Chromium."""
