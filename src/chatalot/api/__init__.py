"""The HTTP edge: parse, authenticate, call exactly one service function, shape the response.
No SQL, no permission logic, no transactions here."""
