"""Streamlit glue shared by the pages: navigation, sidebar, rendering helpers."""
