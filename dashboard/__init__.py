"""The operators' Streamlit dashboard (arrives with the deployment issue)."""
