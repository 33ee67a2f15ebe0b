"""The JSON API and the `/ws` socket: thin routes over the services; errors become status codes or frames here."""
