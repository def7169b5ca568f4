"""The only Streamlit-aware helpers: cached resources, session state and shared widgets."""
