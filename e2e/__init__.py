"""Browser end-to-end tests of the workbench (Playwright, Debian's Chromium)."""
