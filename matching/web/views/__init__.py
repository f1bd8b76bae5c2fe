"""Views: thin translations of requests into casework operations."""
