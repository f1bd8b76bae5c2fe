"""Views: thin translations of requests into casework operations (see ``common.match_for``)."""
