"""The operators' report: a self-contained HTML file (charts as inline SVG, nothing fetched
from the network) or the same tables as CSV files."""
